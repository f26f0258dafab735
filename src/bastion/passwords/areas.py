"""Where an organisation sits in the federation: its integrated care board and NHS region.

The national dashboard shows blocked passwords per month by region and by ICB as
well as by organisation. The federation registry records each organisation's
parent (a trust's ICB, an ICB's region), so an organisation's ICB and region are the
first of its ancestors (itself included) of each type; an organisation outside that
tree (a supplier, an arm's-length body) has neither and is shown as "no region".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bastion import orgs
from bastion.passwords.service import NOT_BLOCKS, CheckCount

NO_AREA = "—"
MAX_DEPTH = 8  # parent links followed at most (the registry's tree is three deep)


@dataclass(frozen=True)
class Area:
    """An organisation's ICB and region: (code, name) each, or None outside the tree."""

    icb: tuple[str, str] | None
    region: tuple[str, str] | None


def areas(session: Session, codes: Iterable[str]) -> dict[str, Area]:
    """Return the ICB and region of each organisation code (ancestors read a level at a time)."""
    known: dict[str, orgs.Organisation] = {}
    wanted = set(codes)
    for _ in range(MAX_DEPTH):
        missing = sorted(wanted - set(known))
        if not missing:
            break
        found, _ = orgs.list_organisations(session, codes=missing)
        known.update((o.code, o) for o in found)
        wanted = {o.parent for o in found if o.parent} | set(known)
    placed: dict[str, Area] = {}
    for code in codes:
        icb = region = None
        org = known.get(code)
        for _ in range(MAX_DEPTH):
            if org is None:
                break
            if org.type == orgs.OrgType.ICB and icb is None:
                icb = (org.code, org.name)
            if org.type == orgs.OrgType.REGION and region is None:
                region = (org.code, org.name)
            org = known.get(org.parent) if org.parent else None
        placed[code] = Area(icb, region)
    return placed


def blocks_by(
    counts: Iterable[CheckCount], placed: dict[str, Area], level: str
) -> dict[tuple[str, str], int]:
    """Return blocked checks per (month, area name) at ``level`` ("icb" or "region")."""
    totals: dict[tuple[str, str], int] = {}
    for c in counts:
        if c.reason in NOT_BLOCKS:
            continue
        area = getattr(placed.get(c.org, Area(None, None)), level)
        key = (c.month, area[1] if area else NO_AREA)
        totals[key] = totals.get(key, 0) + c.checks
    return totals
