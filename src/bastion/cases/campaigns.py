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
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, delete, func, insert, select, tuple_
from sqlalchemy.orm import Session

from bastion.cases import alertlinks
from bastion.cases.domain import (
    SHAREABLE_TLP,
    ObservableKind,
    indicator_id,
    observable_value,
    parse_choice,
)
from bastion.cases.models import CampaignRow, CaseOrgRow, ObservableRow
from bastion.core.errors import NotFoundError
from bastion.core.scope import Scope
from bastion.core.types import Tlp
from bastion.store.locks import transaction_lock
from bastion.store.membership import one_of


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
    session: Session,
    scope: Scope,
    *,
    min_organisations: int = 2,
    limit: int | None = 100,
    offset: int = 0,
) -> list[CampaignSummary]:
    """Return the observables in cases of at least ``min_organisations`` organisations, in
    the most organisations first (``limit`` of them from ``offset``), from the counts kept
    in ``case_campaigns``. A member gets only those in its own organisations' cases."""
    query = _spread(scope, min_organisations).order_by(
        CampaignRow.organisations.desc(), CampaignRow.value, CampaignRow.kind
    )
    rows = session.execute(query.offset(offset).limit(limit))
    return [CampaignSummary(k, v, int(n), int(c)) for k, v, n, c in rows]


def count_campaigns(session: Session, scope: Scope, *, min_organisations: int = 2) -> int:
    """Return how many observables :func:`campaigns` lists in all, over every page."""
    spread = _spread(scope, min_organisations).subquery()
    return int(session.scalar(select(func.count()).select_from(spread)) or 0)


def _spread(scope: Scope, min_organisations: int) -> Select[str, str, int, int]:
    query = select(
        CampaignRow.kind, CampaignRow.value, CampaignRow.organisations, CampaignRow.cases
    ).where(CampaignRow.organisations >= min_organisations)
    if scope.codes is not None:
        # The member's own observables (a few), each looked up by its key.
        own = (
            select(ObservableRow.kind, ObservableRow.value)
            .join(CaseOrgRow, CaseOrgRow.case_id == ObservableRow.case_id)
            .where(one_of(CaseOrgRow.org_code, scope.codes))
        )
        query = query.where(tuple_(CampaignRow.kind, CampaignRow.value).in_(own))
    return query


def recount(session: Session, observables: Iterable[tuple[str, str]]) -> None:
    """Count again the organisations and cases that have each (kind, value) of
    ``observables``, after this transaction changed an observable or a case's organisations.

    On PostgreSQL each observable's count is taken under a lock held to the end of the
    transaction, so two transactions changing the same observable at once count in turn,
    the second seeing the first's rows; SQLite has one writer at a time.
    """
    for kind, value in sorted(set(observables)):
        transaction_lock(session, f"case-campaign:{kind}:{value}")
        organisations, cases = session.execute(
            select(
                func.count(CaseOrgRow.org_code.distinct()),
                func.count(ObservableRow.case_id.distinct()),
            )
            .join(CaseOrgRow, CaseOrgRow.case_id == ObservableRow.case_id)
            .where(ObservableRow.kind == kind, ObservableRow.value == value)
        ).one()
        row = session.get(CampaignRow, (kind, value))
        if not cases:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(
                CampaignRow(kind=kind, value=value, organisations=organisations, cases=cases)
            )
        else:
            row.organisations, row.cases = organisations, cases
    session.flush()


def observables_of(session: Session, case_id: int) -> set[tuple[str, str]]:
    """Return the (kind, value) of each observable of case ``case_id``."""
    query = select(ObservableRow.kind, ObservableRow.value).where(ObservableRow.case_id == case_id)
    return {(kind, value) for kind, value in session.execute(query)}


def recount_all(session: Session) -> None:
    """Count every observable again, from scratch (after rows were loaded in bulk)."""
    session.execute(delete(CampaignRow))
    grouped = (
        select(
            ObservableRow.kind,
            ObservableRow.value,
            func.count(CaseOrgRow.org_code.distinct()),
            func.count(ObservableRow.case_id.distinct()),
        )
        .join(CaseOrgRow, CaseOrgRow.case_id == ObservableRow.case_id)
        .group_by(ObservableRow.kind, ObservableRow.value)
    )
    columns = ("kind", "value", "organisations", "cases")
    session.execute(insert(CampaignRow).from_select(columns, grouped))
