"""Exceptions to scanning: a host, or one check on it, left alone until a date, for a reason.

An approved exception does two things until it expires: the scanner skips what it
covers (the exclusion list), and the findings it covers are ``excepted``. A member
organisation may only *request* one; a national analyst approves or rejects it (or
adds one already approved). Every request and decision is audited.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.audit import Actor
from bastion.core.errors import ConflictError, InputError
from bastion.core.records import from_row, must_exist
from bastion.core.scope import Scope
from bastion.core.timeutil import utcnow
from bastion.core.types import org_code
from bastion.scan.domain import ExceptionState, ScanException, Status
from bastion.scan.models import ScanExceptionRow, ScanFindingRow
from bastion.store.membership import one_of


def _to_domain(row: ScanExceptionRow) -> ScanException:
    return from_row(
        ScanException, row, org=row.org_code, check=row.check_name, state=ExceptionState(row.state)
    )


def active_exceptions(session: Session, org: str, today: date) -> list[ScanException]:
    """Return the approved exceptions of ``org`` still in force on ``today``."""
    rows = session.scalars(
        select(ScanExceptionRow).where(
            ScanExceptionRow.org_code == org,
            ScanExceptionRow.state == ExceptionState.APPROVED.value,
            ScanExceptionRow.expires_on >= today,
        )
    )
    return [_to_domain(r) for r in rows]


def list_exceptions(session: Session, scope: Scope) -> list[ScanException]:
    """Return the exceptions ``scope`` may see, newest first."""
    query = select(ScanExceptionRow).order_by(ScanExceptionRow.id.desc())
    if scope.codes is not None:
        query = query.where(one_of(ScanExceptionRow.org_code, scope.codes))
    return [_to_domain(r) for r in session.scalars(query)]


def _view(row: ScanExceptionRow) -> dict[str, object]:
    return {
        "host": row.host,
        "check": row.check_name,
        "reason": row.reason,
        "expires_on": row.expires_on,
        "state": row.state,
    }


def _mark_findings(session: Session, row: ScanExceptionRow) -> list[int]:
    """Mark the open findings an approved exception covers as excepted; return their ids."""
    query = select(ScanFindingRow).where(
        ScanFindingRow.org_code == row.org_code,
        ScanFindingRow.host == row.host,
        ScanFindingRow.status.in_([Status.OPEN.value, Status.FIXED_UNCONFIRMED.value]),
    )
    if row.check_name is not None:
        query = query.where(ScanFindingRow.check_name == row.check_name)
    marked = []
    now = utcnow()
    for finding in session.scalars(query):
        finding.status = Status.EXCEPTED.value
        finding.status_changed_at = now
        marked.append(finding.id)
    return marked


def add_exception(
    session: Session,
    org: str,
    host: str,
    check: str | None,
    *,
    expires_on: date,
    reason: str,
    actor: Actor,
    approve: bool,
) -> ScanException:
    """Add an exception for ``host`` (one ``check``, or all when None); approved only if ``approve``.

    The caller decides ``approve``: only a national analyst may approve.
    """
    code = org_code(org)
    if not reason.strip():
        msg = "an exception needs a reason"
        raise InputError(msg)
    if expires_on < utcnow().date():
        msg = f"expiry {expires_on} is in the past"
        raise InputError(msg)
    state = ExceptionState.APPROVED if approve else ExceptionState.REQUESTED
    row = ScanExceptionRow(
        org_code=code,
        host=host.strip().lower(),
        check_name=check or None,
        reason=reason.strip(),
        expires_on=expires_on,
        state=state.value,
        requested_by=str(actor)[:120],
        decided_by=str(actor)[:120] if approve else None,
    )
    session.add(row)
    session.flush()
    marked = _mark_findings(session, row) if approve else []
    audit.record(
        session,
        actor,
        "scan.exception.add",
        f"scan-exception:{row.id}",
        org=code,
        after={**_view(row), "excepted_findings": marked},
    )
    return _to_domain(row)


def decide_exception(
    session: Session, exception_id: int, *, approve: bool, actor: Actor
) -> ScanException:
    """Approve or reject a requested exception (a national analyst's decision); audited."""
    row = must_exist(
        session.get(ScanExceptionRow, exception_id), f"no scan exception {exception_id}"
    )
    if row.state != ExceptionState.REQUESTED.value:
        msg = f"scan exception {exception_id} is already {row.state}"
        raise ConflictError(msg)
    before = _view(row)
    row.state = (ExceptionState.APPROVED if approve else ExceptionState.REJECTED).value
    row.decided_by = str(actor)[:120]
    session.flush()
    marked = _mark_findings(session, row) if approve else []
    audit.record(
        session,
        actor,
        "scan.exception.decide",
        f"scan-exception:{row.id}",
        org=row.org_code,
        before=before,
        after={**_view(row), "excepted_findings": marked},
    )
    return _to_domain(row)


def get_exception(session: Session, scope: Scope, exception_id: int) -> ScanException:
    """Return one exception ``scope`` may see, or raise NotFoundError."""
    missing = f"no scan exception {exception_id}"
    return _to_domain(scope.visible(session.get(ScanExceptionRow, exception_id), missing))
