"""The federation-wide campaign view: one observable across many members' cases and alerts.

A national scope sees every organisation affected and its cases. A member sees
its own organisations' cases, the other organisations by name only where every
case of theirs marks the observable TLP:CLEAR or TLP:GREEN, and otherwise only
how many other organisations are affected. A member asks only about an
observable of its own cases or alerts: any other answers as not found, so the
view is no oracle for what other members have seen.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session, aliased

from bastion.cases import alertlinks
from bastion.cases.domain import (
    SHAREABLE_TLP,
    ObservableKind,
    indicator_id,
    observable_value,
    parse_choice,
)
from bastion.cases.models import CaseOrgRow, ObservableRow
from bastion.core.errors import NotFoundError
from bastion.core.scope import Scope
from bastion.core.types import Tlp


@dataclass(frozen=True)
class Affected:
    """One organisation a campaign touches, as the caller may see it."""

    org: str
    cases: tuple[int, ...]  # its cases with the observable (empty when only shared by TLP)
    alerts: int  # alerts the observable raised there
    own: bool  # in the caller's scope


@dataclass(frozen=True)
class Campaign:
    kind: str
    value: str
    affected: tuple[Affected, ...]
    others: int  # organisations affected that the caller may not know by name
    intel: str | None


@dataclass(frozen=True)
class CampaignSummary:
    kind: str
    value: str
    organisations: int
    cases: int


def campaign(session: Session, scope: Scope, kind: str, value: str) -> Campaign:
    """Return who the observable ``kind``/``value`` touches, as ``scope`` may see it."""
    which = parse_choice(ObservableKind, kind, "observable kind")
    text = observable_value(which, value)
    per_org: dict[str, set[int]] = defaultdict(set)
    shareable: dict[str, bool] = defaultdict(lambda: True)
    query = (
        select(CaseOrgRow.org_code, ObservableRow.case_id, ObservableRow.tlp)
        .join(CaseOrgRow, CaseOrgRow.case_id == ObservableRow.case_id)
        .where(ObservableRow.kind == which.value, ObservableRow.value == text)
    )
    for code, case_id, tlp in session.execute(query):
        per_org[code].add(case_id)
        shareable[code] = shareable[code] and Tlp(tlp) in SHAREABLE_TLP
    indicator = indicator_id(which, text)
    alerted = alertlinks.organisations_alerted(session, indicator) if indicator else {}
    codes = sorted(set(per_org) | set(alerted))
    if not scope.national and not any(scope.allows(c) for c in codes):
        msg = f"no campaign of the {which.value} {text!r} in your organisations' cases or alerts"
        raise NotFoundError(msg)
    affected, others = [], 0
    for code in codes:
        own = scope.allows(code)
        if own:
            affected.append(Affected(code, tuple(sorted(per_org[code])), alerted.get(code, 0), own))
        elif code in per_org and shareable[code] and code not in alerted:
            affected.append(Affected(code, (), 0, own))
        else:
            others += 1
    return Campaign(
        which.value,
        text,
        tuple(affected),
        others,
        None if indicator is None else f"/intel/indicators/{indicator}",
    )


def campaigns(
    session: Session, scope: Scope, *, min_organisations: int = 2, limit: int = 100
) -> list[CampaignSummary]:
    """Return the observables in cases of at least ``min_organisations`` organisations.

    A member gets only those in its own organisations' cases.
    """
    orgs = func.count(CaseOrgRow.org_code.distinct())
    query = (
        select(
            ObservableRow.kind,
            ObservableRow.value,
            orgs,
            func.count(ObservableRow.case_id.distinct()),
        )
        .join(CaseOrgRow, CaseOrgRow.case_id == ObservableRow.case_id)
        .group_by(ObservableRow.kind, ObservableRow.value)
        .having(orgs >= min_organisations)
    )
    if scope.codes is not None:
        # The member's own observables first (a few), then only theirs aggregated: not
        # every observable of the federation tested against the member's cases.
        mine, mine_org = aliased(ObservableRow), aliased(CaseOrgRow)
        own = (
            select(mine.kind, mine.value)
            .join(mine_org, mine_org.case_id == mine.case_id)
            .where(mine_org.org_code.in_(scope.codes))
        )
        query = query.where(tuple_(ObservableRow.kind, ObservableRow.value).in_(own))
    rows = session.execute(query.order_by(orgs.desc(), ObservableRow.value).limit(limit))
    return [CampaignSummary(k, v, int(n), int(c)) for k, v, n, c in rows]
