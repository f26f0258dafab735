"""Directory audit reports: run an audit of an organisation's NTLM export, keep its report.

The report names accounts (which use a breached password, which share one, which
have none) and is kept in the organisation's scope: members see their own
organisation's reports, national roles every one. The hashes read are discarded when
the audit ends; only names, counts and the numbers of unreadable lines are stored.
Each run records one audit event (with counts, not names).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import audit, orgs
from bastion.audit import Actor
from bastion.core.scope import Scope
from bastion.passwords.dump import DumpReport, audit_dump
from bastion.passwords.models import PasswordAuditRow
from bastion.passwords.policy import get_policy
from bastion.passwords.store import Stores
from bastion.store.membership import one_of


@dataclass(frozen=True)
class AuditReport:
    """A stored audit report."""

    id: int
    org: str
    created_at: datetime
    actor: str
    source: str
    accounts: int
    breached: list[str]
    shared: list[list[str]]
    empty: list[str]
    bad_lines: list[int]


def _report(row: PasswordAuditRow) -> AuditReport:
    return AuditReport(
        row.id,
        row.org_code,
        row.created_at,
        row.actor,
        row.source,
        row.accounts,
        list(row.breached),
        [list(g) for g in row.shared],
        list(row.empty),
        list(row.bad_lines),
    )


def run_audit(
    session: Session, stores: Stores, actor: Actor, org: str, path: Path
) -> tuple[int, DumpReport]:
    """Audit ``path`` (an NTLM export of ``org``'s directory), keep the report, return its id."""
    code = orgs.get_organisation(session, org.strip().upper()).code
    policy, _ = get_policy(session, code)
    found = audit_dump(code, path, stores.get("ntlm"), min_breach_count=policy.min_breach_count)
    row = PasswordAuditRow(
        org_code=code,
        actor=str(actor)[:120],
        source=path.name[:300],
        accounts=found.accounts,
        breached=found.breached,
        shared=found.shared,
        empty=found.empty,
        bad_lines=found.bad_lines,
    )
    session.add(row)
    session.flush()
    summary = {
        "accounts": found.accounts,
        "breached": len(found.breached),
        "shared": sum(len(g) for g in found.shared),
        "empty": len(found.empty),
    }
    audit.record(
        session, actor, "passwords.audit.run", f"password_audit:{row.id}", org=code, after=summary
    )
    return row.id, found


def list_audits(session: Session, scope: Scope, *, org: str | None = None) -> list[AuditReport]:
    """Return the audit reports ``scope`` may see (newest first), of one organisation if named."""
    query = select(PasswordAuditRow).order_by(PasswordAuditRow.id.desc())
    if scope.codes is not None:
        query = query.where(one_of(PasswordAuditRow.org_code, scope.codes))
    if org is not None:
        query = query.where(PasswordAuditRow.org_code == org.strip().upper())
    return [_report(r) for r in session.scalars(query)]


def get_audit(session: Session, scope: Scope, audit_id: int) -> AuditReport:
    """Return one audit report; NotFoundError if absent or outside ``scope`` (the same answer)."""
    row = session.get(PasswordAuditRow, audit_id)
    return _report(scope.visible(row, f"no password audit with id {audit_id}"))
