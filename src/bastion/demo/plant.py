"""What a planted attack is: its label, its events, and how its targets are chosen."""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from bastion.core.errors import InputError
from bastion.demo.federation import nested_allocations
from bastion.demo.rand import Draw
from bastion.demo.world import Server
from bastion.orgs import Organisation, OrgType

HOUR = 3_600_000_000
MINUTE = 60_000_000
SECOND = 1_000_000


@dataclass(frozen=True)
class PlantedAttack:
    """One planted attack: what it is, whom it targets, and where its events are."""

    kind: str  # c2-beacon, phishing-dns, phishing-web, log4shell, ja3, port-scan, exfiltration
    organisation: str  # code of the targeted member
    host_ip: str  # the member's own address in the events
    external_ips: tuple[str, ...]  # the other side
    indicator_type: str | None  # as in indicators.csv, when a listed indicator matches
    indicator: str | None
    format: str  # the parser that reads the file
    file: str  # relative to the output folder
    action: str  # "blocked" by the device, or "allowed" (live)
    events: int
    first_seen: str  # ISO 8601, UTC
    last_seen: str
    description: str


@dataclass(frozen=True)
class Plant:
    """An attack's events, before they are mixed into its file."""

    label: PlantedAttack
    frame: pl.DataFrame


def owner_of(address: str, orgs: Sequence[Organisation]) -> str | None:
    """Return the code of the organisation with the most specific network holding ``address``."""
    ip = ipaddress.ip_address(address)
    best: tuple[int, str] | None = None
    for org in orgs:
        for cidr in org.networks:
            network = ipaddress.ip_network(cidr)
            if ip in network and (best is None or network.prefixlen > best[0]):
                best = (network.prefixlen, org.code)
    return best[1] if best else None


class Targets:
    """Pick the members the attacks target, deterministically from the seed."""

    def __init__(self, orgs: Sequence[Organisation], servers: Sequence[Server], seed: int) -> None:
        self.orgs = list(orgs)
        self.rng = random.Random(f"{seed}:targets")
        by_code = {o.code: o for o in orgs}
        served = sorted({s.code for s in servers if s.hostname.startswith("www.")})
        trusts = [c for c in served if by_code[c].type is OrgType.TRUST] or served
        if not trusts:
            msg = "the federation has no member with a www host: the demo attacks need one"
            raise InputError(msg)
        self.pool = self.rng.sample(trusts, len(trusts))
        self.next = 0
        self.www = {s.code: s for s in servers if s.hostname.startswith("www.")}
        self.vpn = {s.code: s for s in servers if s.hostname.startswith("vpn.")}
        hosted = sorted({inner for _, inner, _, _ in nested_allocations(orgs)})
        self.hosted = by_code[hosted[0]] if hosted else by_code[trusts[0]]

    def member(self) -> Organisation:
        """Return the next target organisation, cycling when the pool runs out."""
        code = self.pool[self.next % len(self.pool)]
        self.next += 1
        return next(o for o in self.orgs if o.code == code)

    def client(self, org: Organisation) -> str:
        """Return an address of ``org`` that attribution gives to ``org`` itself."""
        networks = sorted(
            (ipaddress.ip_network(c) for c in org.networks if "." in c),
            key=lambda n: -n.num_addresses,
        )
        if not networks:
            msg = f"organisation {org.code} has no IPv4 network to plant an attack in"
            raise InputError(msg)
        network = networks[0]
        low = 100 if network.num_addresses >= 1024 else 2
        high = max(low + 1, min(network.num_addresses // 2, 600))
        address = str(network.network_address + self.rng.randrange(low, high))
        if owner_of(address, self.orgs) != org.code:
            msg = f"planted host {address} would not attribute to {org.code}"
            raise InputError(msg)
        return address


def times(draw: Draw, start: int, count: int, every: int, jitter: int) -> pl.Series:
    """Return ``count`` times from ``start``, ``every`` apart with +/- ``jitter``."""
    steps = pl.int_range(0, count, eager=True).cast(pl.Int64) * every
    return (steps + start + draw.ints(count, -jitter, jitter + 1)).sort()


def spread(draw: Draw, start: int, end: int, count: int) -> pl.Series:
    """Return ``count`` sorted times drawn uniformly from ``[start, end)``."""
    return draw.ints(count, start, end).sort()


def _iso(micros: int) -> str:
    return datetime.fromtimestamp(micros / 1e6, UTC).isoformat().replace("+00:00", "Z")


def plant(
    frame: pl.DataFrame,
    *,
    kind: str,
    org: Organisation,
    host_ip: str,
    external: Sequence[str],
    indicator: tuple[str, str] | None,
    fmt: str,
    file: str,
    action: str,
    description: str,
) -> Plant:
    """Label an attack's events with whom it targets, where it is logged and when."""
    stamps = frame["ts"]
    label = PlantedAttack(
        kind=kind,
        organisation=org.code,
        host_ip=host_ip,
        external_ips=tuple(external),
        indicator_type=indicator[0] if indicator else None,
        indicator=indicator[1] if indicator else None,
        format=fmt,
        file=file,
        action=action,
        events=frame.height,
        first_seen=_iso(int(stamps.min())),  # type: ignore[arg-type]
        last_seen=_iso(int(stamps.max())),  # type: ignore[arg-type]
        description=description,
    )
    return Plant(label, frame)
