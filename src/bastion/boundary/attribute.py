"""The attribute stage: give each event the organisation whose network it touches.

The federation's networks (nested allocations allowed: an ICB's /16 holding a trust's
/24) are flattened once into sorted, non-overlapping segments that know their most
specific owner. Attributing a batch parses each distinct address once, finds its
segment by binary search, and joins the owners back onto the events.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from bastion.boundary.ipcolumns import CidrTable, parse_cidrs
from bastion.core.errors import InputError

SOURCE_IP = "source.ip"
DESTINATION_IP = "destination.ip"
ORGANISATION = "organization.id"
HOST_IP = "host.ip"


class NetworkIndex:
    """The federation's networks, ready to say which organisation owns an address."""

    def __init__(self, table: CidrTable, owners: pl.Series) -> None:
        self._table = table
        self._owners = owners

    @classmethod
    def build(cls, networks: Iterable[tuple[str, str]]) -> NetworkIndex:
        """Index (cidr, organisation code) pairs; raise InputError for a bad or doubly owned CIDR."""
        pairs = pl.DataFrame(
            list(networks), schema={"cidr": pl.String, "owner": pl.String}, orient="row"
        )
        keys = parse_cidrs(pairs["cidr"])
        bad = keys["prefix"].is_null().arg_true()
        if len(bad):
            cidr, owner = pairs.row(int(bad[0]))
            msg = f"invalid network {cidr!r} of organisation {owner}: expected a CIDR like 10.1.0.0/16"
            raise InputError(msg)
        # The same network given twice to one organisation is harmless; to two is an error.
        pairs = pairs.hstack(keys).unique(
            ["v4", "v6", "prefix", "owner"], keep="first", maintain_order=True
        )
        clash = pairs.filter(pl.len().over("v4", "v6", "prefix") > 1)
        if len(clash):
            cidr = clash["cidr"][0]
            owners = ", ".join(sorted(clash.filter(pl.col("cidr") == cidr)["owner"]))
            msg = f"network {cidr} is registered to more than one organisation ({owners})"
            raise InputError(msg)
        return cls(CidrTable.from_keys(pairs.select("v4", "v6", "prefix")), pairs["owner"])

    def __len__(self) -> int:
        return len(self._owners)

    def owners(self, ips: pl.Series) -> pl.Series:
        """Return the code of the organisation owning each address (null where none or invalid)."""
        item = self._table.most_specific(ips)
        return self._owners.gather(item).alias("owner")


def _column(events: pl.DataFrame, name: str) -> pl.Series:
    if name in events.columns:
        return events[name].cast(pl.String)
    return pl.Series(name, [None] * len(events), dtype=pl.String)


def attribute(events: pl.DataFrame, index: NetworkIndex) -> pl.DataFrame:
    """Add ``organization.id`` and ``host.ip``: the member owning source.ip, else destination.ip.

    ``host.ip`` is the member's own address in the event: source.ip when a member owns
    it, else destination.ip when a member owns that, else null.
    """
    source, destination = _column(events, SOURCE_IP), _column(events, DESTINATION_IP)
    # Boundary traffic repeats addresses: look each distinct one up once, then join back
    # only the members' addresses, carrying their position in ``owned`` rather than strings.
    both = pl.concat([source, destination]).drop_nulls()
    distinct = both.gather(both.arg_unique())
    owned = pl.DataFrame({"ip": distinct, "owner": index.owners(distinct)}).filter(
        pl.col("owner").is_not_null()
    )
    positions = owned.select("ip", at=pl.int_range(pl.len(), dtype=pl.UInt32))
    frame = pl.DataFrame({"source": source, "destination": destination})
    for side in ("source", "destination"):
        frame = frame.join(
            positions.rename({"ip": side, "at": f"{side}_at"}),
            on=side,
            how="left",
            maintain_order="left",
        )
    # The source wins: when both ends are members, the event belongs to the sender.
    at = frame.select(pl.coalesce("source_at", "destination_at")).to_series()
    return events.with_columns(
        owned["owner"].gather(at).alias(ORGANISATION), owned["ip"].gather(at).alias(HOST_IP)
    )
