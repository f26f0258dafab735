"""Reading the alert store: pages of alerts with filters, one alert, counts per key."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from bastion.alerts.models import AlertRow
from bastion.alerts.store import Alert, to_domain
from bastion.core.errors import InputError, NotFoundError
from bastion.core.events import AlertKind
from bastion.core.timeutil import as_utc
from bastion.core.types import Severity


def list_alerts(
    session: Session,
    *,
    org: str | None = None,
    orgs: Sequence[str] | None = None,
    verdict: str | None = None,
    state: str | None = None,
    severity: Severity | str | None = None,
    since: datetime | None = None,
    key: str | None = None,
    key_family: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    group_id: int | None = None,
    assignee: str | None = None,
    rule: str | None = None,
    sort: str = "last_seen",
    oldest_first: bool = False,
) -> tuple[list[Alert], int]:
    """Return one page of alerts, most recently seen first, and how many match in all.

    ``orgs`` confines the answer to those organisations (tenancy: an empty list
    gives nothing); ``org`` picks one; ``severity`` is an exact match; ``since``
    keeps alerts last seen at or after it; ``key_family`` keeps the alerts whose key is
    it or it followed by a space or a colon (a correlation rule's alerts are
    ``<key> <group>``, a built-in check's ``<id>:<observable>``).
    """
    query = select(AlertRow)
    if org is not None:
        query = query.where(AlertRow.org_code == org.strip().upper())
    if orgs is not None:
        query = query.where(AlertRow.org_code.in_([o.strip().upper() for o in orgs]))
    if verdict is not None:
        query = query.where(AlertRow.verdict == verdict.strip().lower())
    if state is not None:
        query = query.where(AlertRow.state == state.strip().lower())
    if severity is not None:
        query = query.where(AlertRow.severity == _severity(severity).value)
    if since is not None:
        query = query.where(AlertRow.last_seen >= as_utc(since))
    if key is not None:  # one indicator's (type:value) or rule's alerts
        query = query.where(AlertRow.key == key)
    if key_family is not None:
        query = query.where(
            or_(
                AlertRow.key == key_family,
                AlertRow.key.startswith(f"{key_family} ", autoescape=True),
                AlertRow.key.startswith(f"{key_family}:", autoescape=True),
            )
        )
    if group_id is not None:
        query = query.where(AlertRow.group_id == group_id)
    if assignee is not None:
        query = query.where(AlertRow.assignee == assignee.strip())
    if rule is not None:  # a rule's or a built-in check's alerts, correlations' groups included
        family = rule.strip() if rule.strip().startswith("builtin:") else f"sigma:{rule.strip()}"
        query = query.where(
            or_(
                AlertRow.key == family,
                AlertRow.key.startswith(f"{family} ", autoescape=True),
                AlertRow.key.startswith(f"{family}:", autoescape=True),
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    column = _SORTS.get(sort)
    if column is None:
        msg = f"unknown sort {sort!r}; choose one of {', '.join(_SORTS)}"
        raise InputError(msg)
    order = (
        [column.asc(), AlertRow.id.asc()] if oldest_first else [column.desc(), AlertRow.id.desc()]
    )
    page = query.order_by(*order).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    return [to_domain(r) for r in session.scalars(page)], total


_SORTS: dict[str, ColumnElement[Any] | InstrumentedAttribute[Any]] = {
    "last_seen": AlertRow.last_seen,
    "first_seen": AlertRow.first_seen,
    "severity": case({s.value: s.rank for s in Severity}, value=AlertRow.severity, else_=-1),
    "count": AlertRow.count,
    "state": AlertRow.state,
    "id": AlertRow.id,
}


def count_alerts_by_key(
    session: Session,
    *,
    kind: AlertKind,
    since: datetime | None = None,
    orgs: Sequence[str] | None = None,
) -> dict[str, int]:
    """Return how many alerts of ``kind`` each key has (last seen since ``since``, in ``orgs``)."""
    query = select(AlertRow.key, func.count()).where(AlertRow.kind == kind.value)
    if orgs is not None:
        query = query.where(AlertRow.org_code.in_([o.strip().upper() for o in orgs]))
    if since is not None:
        query = query.where(AlertRow.last_seen >= as_utc(since))
    return {str(k): int(n) for k, n in session.execute(query.group_by(AlertRow.key))}


def get_alert(session: Session, alert_id: int, *, orgs: Sequence[str] | None = None) -> Alert:
    """Return alert ``alert_id``; raise NotFoundError if absent or outside ``orgs``."""
    row = session.get(AlertRow, alert_id)
    visible = orgs is None or (row is not None and row.org_code in {o.upper() for o in orgs})
    if row is None or not visible:
        msg = f"no alert with id {alert_id}; list them with `bastion alerts list`"
        raise NotFoundError(msg)
    return to_domain(row)


def _severity(value: Severity | str) -> Severity:
    try:
        return Severity(str(value).strip().lower())
    except ValueError:
        msg = f"unknown severity {value!r}; choose one of {', '.join(s.value for s in Severity)}"
        raise InputError(msg) from None


def require_org(session: Session, org: str) -> None:
    """Raise NotFoundError unless ``org`` is an organisation of the federation or names an alert.

    An alert may name an organisation the federation does not list (yet): its code
    still filters. A code neither knows is a mistake, not an empty answer.
    """
    from bastion.orgs import organisation_ids

    code = org.strip().upper()
    if organisation_ids(session, [code]):
        return
    if session.scalar(select(AlertRow.id).where(AlertRow.org_code == code).limit(1)) is None:
        msg = f"no organisation with code {code!r}; list them with `bastion orgs list`"
        raise NotFoundError(msg)
