"""The attribute stage: give each event the organisation whose network it touches.

The federation's networks (nested allocations allowed: an ICB's /16 holding a trust's
/24) are flattened once into sorted, non-overlapping segments that know their most
specific owner. Attributing a batch parses its addresses into integer keys (once per
batch, shared with the enrich stage), finds each one's segment by binary search and
gathers the owners: no join, no Python loop.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from bastion.core.errors import InputError
from bastion.core.net import CidrTable, IpKeys, column_keys, ip_keys, parse_cidrs

SOURCE_IP = "source.ip"
DESTINATION_IP = "destination.ip"
ORGANISATION = "organization.id"
HOST_IP = "host.ip"
ADDRESS_COLUMNS = (SOURCE_IP, DESTINATION_IP)


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
        return self.owners_of(ip_keys(ips))

    def owners_of(self, keys: IpKeys) -> pl.Series:
        """``owners`` for addresses already parsed by ``ip_keys``."""
        return self._owners.gather(self._table.most_specific_keys(keys)).alias("owner")


def attribute(
    events: pl.DataFrame, index: NetworkIndex, keys: dict[str, IpKeys] | None = None
) -> pl.DataFrame:
    """Add ``organization.id`` and ``host.ip``: the member owning source.ip, else destination.ip.

    ``host.ip`` is the member's own address in the event: source.ip when a member owns
    it, else destination.ip when a member owns that, else null. ``keys`` are the
    addresses already parsed (``column_keys``); without them they are parsed here.
    """
    if keys is None:
        keys = column_keys(events, ADDRESS_COLUMNS)
    # One binary search per address over the flattened networks: no join, no string keys.
    source = index.owners_of(keys[SOURCE_IP])
    destination = index.owners_of(keys[DESTINATION_IP])
    # The source wins: when both ends are members, the event belongs to the sender.
    host = pl.select(
        pl.when(source.is_not_null())
        .then(_column(events, SOURCE_IP))
        .when(destination.is_not_null())
        .then(_column(events, DESTINATION_IP))
    ).to_series()
    return events.with_columns(
        source.fill_null(destination).alias(ORGANISATION), host.alias(HOST_IP)
    )


def _column(events: pl.DataFrame, name: str) -> pl.Series:
    if name in events.columns:
        return events[name].cast(pl.String)
    return pl.repeat(None, events.height, dtype=pl.String, eager=True).alias(name)
