"""Reading results of behavioural hunting, scoped to the caller, and marking one benign."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.audit import Actor
from bastion.behaviour.allowlist import AllowEntry, entry_view, new_entry, to_entry
from bastion.behaviour.analyse import DNS_TUNNEL, RARE
from bastion.behaviour.models import BehaviourResultRow
from bastion.core.records import from_row
from bastion.core.scope import Scope
from bastion.store.membership import one_of
from bastion.store.paging import page_of


@dataclass(frozen=True)
class BehaviourResult:
    """One stored result: what scored, how, and the evidence behind it."""

    id: int
    org: str
    day: date
    analytic: str
    host: str
    dest: str
    remote: str | None
    score: float
    parts: dict[str, Any]
    connections: int
    orgs: int
    first_seen: datetime
    last_seen: datetime
    status: str
    evidence: dict[str, Any]


def _to_domain(row: BehaviourResultRow) -> BehaviourResult:
    return from_row(BehaviourResult, row, org=row.org_code)


def list_results(
    session: Session,
    scope: Scope,
    *,
    days: list[date] | None = None,
    org: str | None = None,
    host: str | None = None,
    status: str | None = None,
    min_score: float = 0.0,
    limit: int = 200,
    offset: int = 0,
) -> tuple[list[BehaviourResult], int]:
    """Return a page of the results ``scope`` may see, best first (federation view), and the total."""
    query = select(BehaviourResultRow).where(BehaviourResultRow.score >= min_score)
    if scope.codes is not None:
        query = query.where(one_of(BehaviourResultRow.org_code, scope.codes))
    if days:
        query = query.where(BehaviourResultRow.day.in_(days))
    if org:
        query = query.where(BehaviourResultRow.org_code == org.strip().upper())
    if host:
        query = query.where(BehaviourResultRow.host == host.strip())
    if status:
        query = query.where(BehaviourResultRow.status == status)
    rows, total = page_of(
        session,
        query,
        BehaviourResultRow.orgs.desc(),
        BehaviourResultRow.score.desc(),
        BehaviourResultRow.day.desc(),
        BehaviourResultRow.id,
        limit=limit,
        offset=offset,
    )
    return [_to_domain(r) for r in rows], total


def _row(session: Session, scope: Scope, result_id: int) -> BehaviourResultRow:
    missing = f"no behaviour result {result_id}"
    return scope.visible(session.get(BehaviourResultRow, result_id), missing)


def get_result(session: Session, scope: Scope, result_id: int) -> BehaviourResult:
    """Return one result ``scope`` may see, or raise NotFoundError."""
    return _to_domain(_row(session, scope, result_id))


def allow_entry_for(result: BehaviourResult) -> tuple[str, str]:
    """Return the allow-list (kind, value) that covers a result: its fingerprint, name or address."""
    if result.analytic == RARE:
        return "fingerprint", result.dest
    if result.analytic == DNS_TUNNEL:
        return "domain", result.dest
    try:
        ipaddress.ip_address(result.dest)
    except ValueError:
        return "domain", result.dest
    return "address", result.dest


def mark_benign(
    session: Session,
    scope: Scope,
    result_id: int,
    *,
    reason: str,
    expires_on: date,
    national: bool,
    actor: Actor,
) -> tuple[BehaviourResult, AllowEntry]:
    """Mark a result benign and allow-list what it was about (nationally if ``national``).

    The entry is the organisation's own unless a national caller asks for a national
    one; audited as one change (the result and the entry it made).
    """
    row = _row(session, scope, result_id)
    kind, value = allow_entry_for(_to_domain(row))
    entry = new_entry(
        session,
        scope,
        org=None if national else row.org_code,
        kind=kind,
        value=value,
        reason=reason,
        expires_on=expires_on,
        actor=actor,
    )
    before = row.status
    row.status = "benign"
    session.flush()
    audit.record(
        session,
        actor,
        "behaviour.result.benign",
        f"behaviour-result:{row.id}",
        org=row.org_code,
        before={"status": before},
        after={"status": row.status, "allow_entry": entry.id, **entry_view(entry),
               "allow_org": entry.org_code},
    )  # fmt: skip
    return _to_domain(row), to_entry(entry)
