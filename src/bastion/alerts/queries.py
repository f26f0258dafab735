"""Reading the alert store: pages of alerts with filters, one alert, counts per key.

The queue's page (``alert_page``) reads no evidence, counts its matches up to a cap
(the count of a million matches took longer than the page), and continues from a
cursor (the last row's sort value and id) instead of skipping rows: each of its
filters has a composite index whose order is the page's (alerts_0002, alerts_0003).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, case, func, or_, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from bastion.alerts.models import ALERTS_TABLE, AlertRow
from bastion.alerts.store import ALERT_COLUMNS, Alert, from_selected, to_domain
from bastion.core.errors import InputError, NotFoundError
from bastion.core.timeutil import as_utc
from bastion.core.types import Severity
from bastion.store.membership import one_of

# The queue counts its matches up to this many: past it, "10,000+" (a million-alert
# count costs more than the page it titles).
COUNT_CAP = 10_000


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts a list keeps (every field None: all of them).

    ``orgs`` confines the answer to those organisations (tenancy: an empty list
    gives nothing); ``org`` picks one; ``severity`` is an exact match; ``since``
    keeps alerts last seen at or after it; ``key_family`` keeps the alerts whose key is
    it or it followed by a space or a colon (a correlation rule's alerts are
    ``<key> <group>``, a built-in check's ``<id>:<observable>``); ``rule`` is a Sigma
    rule's id or a built-in check's (``builtin:…``), correlations' groups included.
    """

    org: str | None = None
    orgs: Sequence[str] | None = None
    verdict: str | None = None
    state: str | None = None
    severity: Severity | str | None = None
    since: datetime | None = None
    key: str | None = None
    key_family: str | None = None
    group_id: int | None = None
    assignee: str | None = None
    rule: str | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        """Return the SQL conditions of this filter."""
        found: list[ColumnElement[bool]] = []
        if self.org is not None:
            found.append(AlertRow.org_code == self.org.strip().upper())
        if self.orgs is not None:
            found.append(one_of(AlertRow.org_code, [o.strip().upper() for o in self.orgs]))
        if self.verdict is not None:
            found.append(AlertRow.verdict == self.verdict.strip().lower())
        if self.state is not None:
            found.append(AlertRow.state == self.state.strip().lower())
        if self.severity is not None:
            found.append(AlertRow.severity == _severity(self.severity).value)
        if self.since is not None:
            found.append(AlertRow.last_seen >= as_utc(self.since))
        if self.key is not None:  # one indicator's (type:value) or rule's alerts
            found.append(AlertRow.key == self.key)
        if self.key_family is not None:
            found.append(_family(self.key_family))
        if self.group_id is not None:
            found.append(AlertRow.group_id == self.group_id)
        if self.assignee is not None:
            found.append(AlertRow.assignee == self.assignee.strip())
        if self.rule is not None:
            rule = self.rule.strip()
            found.append(_family(rule if rule.startswith("builtin:") else f"sigma:{rule}"))
        return found


def _family(key: str) -> ColumnElement[bool]:
    return or_(
        AlertRow.key == key,
        AlertRow.key.startswith(f"{key} ", autoescape=True),
        AlertRow.key.startswith(f"{key}:", autoescape=True),
    )


@dataclass(frozen=True)
class AlertPage:
    """One page of alerts and how many match.

    ``total`` is exact when ``exact``; otherwise counting stopped there and more
    match ("10,000+"). ``next_cursor`` fetches the page after this one (None: the last).
    """

    alerts: list[Alert]
    total: int
    exact: bool
    next_cursor: str | None


_SORTS: dict[str, ColumnElement[Any] | InstrumentedAttribute[Any]] = {
    "last_seen": AlertRow.last_seen,
    "first_seen": AlertRow.first_seen,
    "severity": case({s.value: s.rank for s in Severity}, value=AlertRow.severity, else_=-1),
    "count": AlertRow.count,
    "state": AlertRow.state,
    "id": AlertRow.id,
}


def alert_page(
    session: Session,
    where: AlertFilter,
    *,
    limit: int | None = None,
    offset: int = 0,
    cursor: str | None = None,
    sort: str = "last_seen",
    oldest_first: bool = False,
    count_limit: int | None = COUNT_CAP,
    evidence: bool = False,
) -> AlertPage:
    """Return one page of the alerts ``where`` keeps, sorted by ``sort``, newest first.

    ``cursor`` (a page's ``next_cursor``) starts after that page's last alert, walking
    the index instead of skipping ``offset`` rows; the count stops at ``offset +
    count_limit`` (None: counts every match). Without ``evidence`` the alerts carry none.
    """
    column = _SORTS.get(sort)
    if column is None:
        msg = f"unknown sort {sort!r}; choose one of {', '.join(_SORTS)}"
        raise InputError(msg)
    clauses = where.clauses()
    fetch = limit is None or limit > 0  # a count alone (limit 0) reads no page
    # Counting none on the first page: whether any match, the page itself says (the
    # count, of one row at most, may cost a scan of every alert when few match).
    counted = not (count_limit == 0 and offset == 0 and cursor is None and fetch)
    count = None
    if counted:
        matches = select(AlertRow.id).where(*clauses)
        if count_limit is not None:  # inline: a prepared statement's generic plan (psycopg
            # prepares after five runs) knows no limit, and PostgreSQL chose to read every match
            cap = offset + count_limit + 1
            matches = matches.limit(bindparam("cap", cap, literal_execute=True))
        count = select(func.count()).select_from(matches.subquery())
    if cursor is not None:
        value, last_id = _after(cursor, sort)
        keyset = tuple_(column, AlertRow.id)
        clauses.append(keyset > (value, last_id) if oldest_first else keyset < (value, last_id))
    order = (
        [column.asc(), AlertRow.id.asc()] if oldest_first else [column.desc(), AlertRow.id.desc()]
    )
    # The count rides on the page's statement, a column computed once (one statement, one
    # round trip, not two); an empty page past the first asks it alone.
    page = select(
        *ALERT_COLUMNS,
        *([ALERTS_TABLE.c.evidence] if evidence else []),
        *([count.scalar_subquery().label("total")] if count is not None else []),
    ).where(*clauses)
    page = page.order_by(*order).offset(bindparam("skip", offset, literal_execute=True))
    if limit is not None:
        page = page.limit(bindparam("size", limit, literal_execute=True))  # inline, as above
    result = session.execute(page) if fetch else None
    names, rows = (tuple(result.keys()), result.all()) if result is not None else ((), [])
    alerts = from_selected(names, rows)
    total = min(len(alerts), 1)
    if count is not None:
        if rows:
            total = rows[0][-1]
        elif offset or cursor is not None or not fetch:
            total = session.scalar(count) or 0
        else:
            total = 0  # the first page is empty: nothing matches
    exact = count_limit is None or total <= offset + count_limit
    full = limit is not None and limit > 0 and len(alerts) == limit
    return AlertPage(
        alerts,
        total if exact else offset + (count_limit or 0),
        exact,
        _cursor(alerts[-1], sort) if full else None,
    )


def count_alerts(session: Session, where: AlertFilter) -> int:
    """Return how many alerts ``where`` keeps, counted exactly."""
    return session.scalar(select(func.count()).select_from(AlertRow).where(*where.clauses())) or 0


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
    """Return one page of alerts (with their evidence), most recently seen first, and how many
    match in all (counted exactly); the filters are ``AlertFilter``'s."""
    where = AlertFilter(
        org, orgs, verdict, state, severity, since, key, key_family, group_id, assignee, rule
    )
    found = alert_page(
        session, where, limit=limit, offset=offset, sort=sort, oldest_first=oldest_first,
        count_limit=None, evidence=True,
    )  # fmt: skip
    return found.alerts, found.total


def _cursor(alert: Alert, sort: str) -> str:
    """Return the cursor after ``alert`` in a list sorted by ``sort``."""
    value: Any = {
        "last_seen": alert.last_seen.isoformat(),
        "first_seen": alert.first_seen.isoformat(),
        "severity": alert.severity.rank,
        "count": alert.count,
        "state": alert.state,
        "id": alert.id,
    }[sort]
    text = json.dumps([sort, value, alert.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _after(cursor: str, sort: str) -> tuple[Any, int]:
    """Return the sort value and id a cursor starts after; InputError when it is not one."""
    msg = f"invalid cursor {cursor[:40]!r}: pass a page's next_cursor with the same sort"
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        named, value, last_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if sort in ("last_seen", "first_seen"):
            value = as_utc(datetime.fromisoformat(value))
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InputError(msg) from exc
    plain = isinstance(value, int | str | datetime) and not isinstance(value, bool)
    if named != sort or not isinstance(last_id, int) or isinstance(last_id, bool) or not plain:
        raise InputError(msg)
    return value, last_id


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
