"""Generate a synthetic federation with a realistic shape, and load it into the store.

The default is a few hundred organisations: the seven NHS England regions, ~42
integrated care boards, ~150 trusts, ~200 GP practices, some care providers and
a few suppliers and arm's-length bodies, each with its own address blocks,
contacts and (for trusts and ICBs) internet-facing hosts. A few GP practices
are hosted inside their ICB's or a trust's block on purpose, so attribution's
most-specific-network rule has something to decide.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from bastion.audit import Actor
from bastion.core.errors import InputError
from bastion.demo import addressing as ip
from bastion.demo.names import ALB_NAMES, SUPPLIER_NAMES, NameBook
from bastion.orgs import (
    Contact,
    Host,
    Organisation,
    OrgType,
    list_organisations,
    save_organisations,
)
from bastion.orgs.csvio import NHS_REGIONS

# Integrated care boards per region, in the proportions England has.
REGION_ICBS = {"Y56": 5, "Y58": 7, "Y59": 6, "Y60": 11, "Y61": 6, "Y62": 3, "Y63": 4}
# First letters of GP practice codes by region, loosely following ODS.
REGION_GP_LETTERS = {
    "Y56": "EF",
    "Y58": "L",
    "Y59": "GHJK",
    "Y60": "CM",
    "Y61": "D",
    "Y62": "NP",
    "Y63": "AB",
}
HOSTS = (
    ("www", 10, "public website"),
    ("mail", 11, "mail gateway"),
    ("vpn", 12, "remote access VPN"),
    ("portal", 13, "patient and staff portal"),
)
ALNUM = string.ascii_uppercase + string.digits
MIN_SIZE, MAX_SIZE = 20, 50_000


@dataclass(frozen=True)
class Plan:
    """How many organisations of each kind a federation has."""

    icbs: int
    trusts: int
    gp_practices: int
    care_providers: int
    suppliers: int
    arms_length_bodies: int
    nested: int  # GP practices hosted inside another organisation's block

    @property
    def total(self) -> int:
        return (
            len(NHS_REGIONS)
            + self.icbs
            + self.trusts
            + self.gp_practices
            + self.care_providers
            + self.suppliers
            + self.arms_length_bodies
        )


SIZES = {
    "small": Plan(7, 14, 24, 5, 1, 1, 3),
    "default": Plan(42, 150, 200, 30, 3, 2, 8),
}


def plan_for(size: str | int) -> Plan:
    """Return the plan for a named size or for about ``size`` organisations in all."""
    if isinstance(size, str) and not size.isdigit():
        if size not in SIZES:
            msg = f"unknown federation size {size!r}; choose {', '.join(SIZES)} or a number"
            raise InputError(msg)
        return SIZES[size]
    total = int(size)
    if not MIN_SIZE <= total <= MAX_SIZE:
        msg = f"federation size {total} is out of range: choose {MIN_SIZE} to {MAX_SIZE}"
        raise InputError(msg)
    base = SIZES["default"]
    scale = (total - len(NHS_REGIONS)) / (base.total - len(NHS_REGIONS))

    def scaled(n: int, cap: int) -> int:
        return max(1, min(cap, round(n * scale)))

    icbs, trusts = scaled(base.icbs, base.icbs), scaled(base.trusts, 1000)
    suppliers = scaled(base.suppliers, len(SUPPLIER_NAMES))
    albs = scaled(base.arms_length_bodies, len(ALB_NAMES))
    rest = max(2, total - len(NHS_REGIONS) - icbs - trusts - suppliers - albs)
    gps = max(1, round(rest * 0.87))
    return Plan(icbs, trusts, gps, rest - gps, suppliers, albs, max(1, min(gps // 25, 40)))


class _Codes:
    """Hand out unique ODS-style codes."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set(NHS_REGIONS)

    def new(self, make: Callable[[], str]) -> str:
        for _ in range(10_000):
            code = make()
            if code not in self.used:
                self.used.add(code)
                return code
        msg = "ran out of organisation codes: ask for a smaller federation"
        raise InputError(msg)

    def alnum(self, prefix: str, n: int) -> str:
        return self.new(lambda: prefix + "".join(self.rng.choices(ALNUM, k=n)))


def _icb_regions(count: int) -> list[str]:
    # One per region first, then the rest in proportion to England's shape.
    slots = sorted(
        (i / weight, n, region)
        for n, (region, weight) in enumerate(REGION_ICBS.items())
        for i in range(weight)
    )
    return [region for _, _, region in slots[:count]]


class _Builder:
    def __init__(self, seed: int, plan: Plan) -> None:
        self.rng = random.Random(seed)
        self.plan = plan
        self.names = NameBook(self.rng)
        self.codes = _Codes(self.rng)
        self.trust_pool, self.trust_extra = ip.Pool(ip.TRUST_POOL), ip.Pool(ip.TRUST_EXTRA_POOL)
        self.body_pool = ip.Pool(ip.BODY_POOL)
        self.gp_pool, self.care_pool = ip.Pool(ip.PRACTICE_POOL), ip.Pool(ip.CARE_POOL)
        self.v6_index = 0
        self.orgs: list[Organisation] = []
        self.primary: dict[str, tuple[str, str]] = {}  # code -> (IPv4 block, IPv6 /48)

    def v6(self) -> str:
        self.v6_index += 1
        return ip.member_v6(self.v6_index)

    def gap(self) -> int:
        return self.rng.choice((0, 0, 1, 2))

    def contact(self, domain: str, role: str) -> Contact:
        first, last = self.names.person()
        return Contact(f"{first} {last}", f"{first}.{last}@{domain}".lower(), role)

    def add(
        self,
        code: str,
        name: str,
        kind: OrgType,
        parent: str | None,
        networks: Sequence[str],
        contacts: Sequence[Contact],
        hosts: Sequence[Host] = (),
    ) -> Organisation:
        org = Organisation(
            code=code,
            name=name,
            type=kind,
            parent=parent,
            networks=tuple(sorted(networks)),
            contacts=tuple(contacts),
            hosts=tuple(sorted(hosts, key=lambda h: h.hostname)),
        )
        self.orgs.append(org)
        return org

    def body(
        self,
        code: str,
        name: str,
        kind: OrgType,
        parent: str | None,
        prefix: int,
        domain: str,
        with_hosts: bool = False,
    ) -> Organisation:
        block, v6 = str(self.body_pool.take(prefix, self.gap())), self.v6()
        self.primary[code] = (block, v6)
        contacts = [self.contact(domain, "security lead")]
        hosts: list[Host] = []
        if with_hosts:
            contacts += [
                self.contact(domain, "SIRO"),
                Contact("IT Service Desk", f"servicedesk@{domain}", "IT service desk"),
            ]
            hosts = [Host(f"{h}.{domain}", ip.host_address(block, o), d) for h, o, d in HOSTS]
        return self.add(code, name, kind, parent, [block, v6], contacts, hosts)

    def trust(self, parent: str) -> Organisation:
        name, stem = self.names.trust()
        domain = f"{self.names.slug(stem)}.nhs.uk"
        large = "University" in name or "Teaching" in name
        block, v6 = str(self.trust_pool.take(19 if large else 20, self.gap())), self.v6()
        networks = [block, v6]
        if self.rng.random() < 0.3:
            networks.append(str(self.trust_extra.take(24, self.gap())))
        contacts = [
            self.contact(domain, "security lead"),
            self.contact(domain, "SIRO"),
            Contact("IT Service Desk", f"servicedesk@{domain}", "IT service desk"),
        ]
        hosts = [Host(f"{h}.{domain}", ip.host_address(block, o), d) for h, o, d in HOSTS]
        code = self.codes.alnum("R", 2)
        self.primary[code] = (block, v6)
        return self.add(code, name, OrgType.TRUST, parent, networks, contacts, hosts)

    def gp_practice(self, icb: Organisation, region: str, networks: Sequence[str]) -> None:
        name = self.names.gp_practice()
        letters = REGION_GP_LETTERS[region]
        code = self.codes.new(
            lambda: (
                self.rng.choice(letters) + f"{self.rng.randrange(81, 100)}"
                f"{self.rng.randrange(1, 1000):03d}"
            )
        )
        domain = f"{self.names.slug(name)}.nhs.uk"
        contact = self.contact(domain, "practice manager")
        self.add(code, name, OrgType.GP_PRACTICE, icb.code, networks, [contact])

    def care_provider(self, icb: Organisation) -> None:
        name = self.names.care_provider()
        domain = f"{self.names.slug(name)}.org.uk"
        code = self.codes.new(
            lambda: (
                "V"
                + self.rng.choice(string.ascii_uppercase)
                + self.rng.choice(string.digits)
                + self.rng.choice(string.ascii_uppercase)
                + self.rng.choice(string.digits)
            )
        )
        networks = [str(self.care_pool.take(29, self.gap())), self.v6()]
        contacts = [self.contact(domain, "registered manager")]
        self.add(code, name, OrgType.CARE_PROVIDER, icb.code, networks, contacts)

    def build(self) -> list[Organisation]:
        plan = self.plan
        for code, name in NHS_REGIONS.items():
            domain = f"{self.names.slug(name.removeprefix('NHS England '))}.england.nhs.uk"
            self.body(code, name, OrgType.REGION, None, 22, domain)
        icbs: list[tuple[Organisation, str]] = []
        for region in _icb_regions(plan.icbs):
            area = self.names.county()
            domain = f"{self.names.slug(area)}.icb.nhs.uk"
            name = f"NHS {area} Integrated Care Board"
            icb = self.body(self.codes.alnum("Q", 2), name, OrgType.ICB, region, 20, domain, True)
            icbs.append((icb, region))
        trusts_by_icb: dict[str, list[Organisation]] = {icb.code: [] for icb, _ in icbs}
        for n in range(plan.trusts):
            icb, _ = icbs[n] if n < len(icbs) else self.rng.choice(icbs)
            trusts_by_icb[icb.code].append(self.trust(icb.code))
        for n in range(plan.gp_practices):
            icb, region = icbs[n % len(icbs)] if n < len(icbs) else self.rng.choice(icbs)
            if n < plan.nested:
                # Hosted: a /28 (and an IPv6 /64) from the top of its ICB's or a trust's blocks.
                trusts = trusts_by_icb[icb.code]
                host = trusts[0] if n % 2 and trusts else icb
                v4, v6 = self.primary[host.code]
                networks = [ip.nested_block(v4, 28, n), ip.nested_block(v6, 64, n)]
            else:
                networks = [str(self.gp_pool.take(27, self.gap())), self.v6()]
            self.gp_practice(icb, region, networks)
        for _ in range(plan.care_providers):
            self.care_provider(self.rng.choice(icbs)[0])
        for name in self.rng.sample(SUPPLIER_NAMES, plan.suppliers):
            code = self.codes.new(
                lambda: (
                    "8"
                    + "".join(self.rng.choices(string.ascii_uppercase, k=2))
                    + f"{self.rng.randrange(100):02d}"
                )
            )
            domain = f"{self.names.slug(name.split()[0])}.co.uk"
            self.body(code, name, OrgType.SUPPLIER, None, 22, domain)
        for name in ALB_NAMES[: plan.arms_length_bodies]:
            domain = f"{self.names.slug(name)}.nhs.uk"
            self.body(self.codes.alnum("X", 2), name, OrgType.ARMS_LENGTH_BODY, None, 21, domain)
        return self.orgs


def generate_federation(seed: int = 7, size: str | int = "default") -> list[Organisation]:
    """Return a synthetic federation, parents first; the same seed gives the same federation.

    ``size`` is "small" (~50 organisations, for tests), "default" (~430) or about
    how many organisations to make in all (20 to 50,000).
    """
    return _Builder(seed, plan_for(size)).build()


def counts_by_type(orgs: Sequence[Organisation]) -> dict[str, int]:
    """Count organisations by type, in the order of OrgType."""
    counts = {t.value: 0 for t in OrgType}
    for org in orgs:
        counts[org.type.value] += 1
    return {t: n for t, n in counts.items() if n}


def nested_allocations(orgs: Sequence[Organisation]) -> list[tuple[str, str, str, str]]:
    """Return every (inner cidr, inner code, outer cidr, outer code) where one org's block holds another's."""
    return ip.overlaps((cidr, org.code) for org in orgs for cidr in org.networks)


@dataclass(frozen=True)
class LoadReport:
    """What ``load_federation`` did."""

    created: int
    updated: int
    unchanged: int
    by_type: dict[str, int]


def _comparable(org: Organisation) -> Organisation:
    return replace(
        org,
        networks=tuple(sorted(org.networks)),
        hosts=tuple(sorted(org.hosts, key=lambda h: h.hostname)),
        children=0,
    )


def _parents_first(orgs: Sequence[Organisation]) -> list[Organisation]:
    by_code = {o.code: o for o in orgs}
    ordered: list[Organisation] = []
    done: set[str] = set()
    for org in orgs:
        chain = []
        node: Organisation | None = org
        while node is not None and node.code not in done and node not in chain:
            chain.append(node)
            node = by_code.get(node.parent) if node.parent else None
        for item in reversed(chain):
            done.add(item.code)
            ordered.append(item)
    return ordered


def load_federation(session: Session, orgs: Sequence[Organisation], *, actor: Actor) -> LoadReport:
    """Save ``orgs`` parents first in the caller's transaction; loading again changes nothing.

    An organisation already stored exactly as given is left alone; one that
    differs is replaced, networks, contacts and hosts and all. The load is one
    change in the audit trail.
    """
    stored, _ = list_organisations(session, codes=[o.code for o in orgs])
    current = {o.code: _comparable(o) for o in stored}
    unchanged = 0
    changed = []
    for org in _parents_first(orgs):
        if current.get(org.code) == _comparable(org):
            unchanged += 1
        else:
            changed.append(org)
    created, updated = save_organisations(session, changed, actor=actor, source="demo federation")
    return LoadReport(created, updated, unchanged, counts_by_type(orgs))
