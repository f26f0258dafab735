"""Daily roll-ups of the alerts' response figures: a year of MTTA/MTTR without a million rows.

``alert_rollup`` holds, per day of creation (UTC) and severity, how many alerts
were created, acknowledged and closed, the summed times to acknowledge
and to close, and how many were acknowledged within the national and the member
targets. A past day's figures change only when one of its alerts is acknowledged,
closed or has its severity raised: each of those ``touch``-es the day (its
``version`` in ``alert_rollup_days`` goes up, in the transaction of the change).
``refresh`` rolls up again the days whose roll-up is older than their last change
(or was taken with other targets), one SQL aggregation per run of such days, and
marks each current at the version it read before aggregating: a change committed
meanwhile leaves the day stale for the next reader, never a stale day marked current.
Today, and the part days at a period's ends, are summed from the alerts themselves.
The roll-up is national: one organisation's figures come from the alerts, through
an index that holds every column they need (``ix_alerts_response``); per
organisation by day, with a thousand members, would be as many rows as alerts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bastion.alerts.models import AlertDayRow, AlertRollupRow, AlertRow, AlertSeenDayRow
from bastion.store.dialect import is_postgres, seconds_between, utc_day

DAYS = cast(Table, AlertDayRow.__table__)
# The days by last seen whose alerts the overview sums (``bastion.alerts.summary``).
SEEN_DAYS = cast(Table, AlertSeenDayRow.__table__)
ROLLUP = cast(Table, AlertRollupRow.__table__)
# The alert's organisation, "" for none (literals, not parameters: PostgreSQL must see the
# GROUP BY expression and the selected one as the same).
ORG = func.coalesce(AlertRow.org_code, literal_column("''"))


def response_sums(session: Session, *targets: timedelta) -> list[ColumnElement[Any]]:
    """Return the aggregates of a slice of alerts: how many, acknowledged, closed, the summed
    times to acknowledge and to close, and how many were acknowledged within each target."""
    tta = seconds_between(session, AlertRow.acknowledged_at, AlertRow.created_at)
    ttr = seconds_between(session, AlertRow.closed_at, AlertRow.created_at)
    return [
        func.count(),
        func.count(AlertRow.acknowledged_at),
        func.count(AlertRow.closed_at),
        func.coalesce(func.sum(tta), 0.0),
        func.coalesce(func.sum(ttr), 0.0),
        *(func.sum(case((tta <= t.total_seconds(), 1), else_=0)) for t in targets),
    ]


def upsert(session: Session) -> Any:
    """Return the dialect's ``insert`` of ``session``'s backend (it has ``on_conflict_…``)."""
    return postgres_insert if is_postgres(session) else sqlite_insert


def touch(session: Session, moment: datetime, days: Table = DAYS) -> None:
    """Count a change to the response figures of the alerts created on ``moment``'s day
    (UTC); with ``days=SEEN_DAYS``, to the overview's sums of the alerts last seen on it."""
    statement = upsert(session)(days).values(day=moment.astimezone(UTC).date(), version=1)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["day"], set_={"version": days.c.version + 1}
        )
    )


def touch_days(session: Session, days: Iterable[date], table: Table = DAYS) -> None:
    """``touch`` each of ``days`` once, in order (so concurrent writers never deadlock)."""
    for day in sorted(set(days)):
        touch(session, midnight(day), table)


def whole_days(since: datetime, until: datetime, today: date) -> tuple[date, date]:
    """Return the whole days ``[first, end)`` inside ``[since, until)`` and before ``today``."""
    first = since.astimezone(UTC).date()
    if datetime.combine(first, time(), UTC) < since:
        first += timedelta(days=1)
    end = min(until.astimezone(UTC).date(), today)
    return first, max(first, end)


def midnight(day: date) -> datetime:
    """Return the start of ``day``, UTC."""
    return datetime.combine(day, time(), UTC)


def runs(days: list[date]) -> Iterator[tuple[date, date]]:
    """Yield the runs of consecutive ``days`` (sorted) as ``[first, end)``."""
    start = previous = None
    for day in days:
        if start is None or previous is None or day != previous + timedelta(days=1):
            if start is not None and previous is not None:
                yield start, previous + timedelta(days=1)
            start = day
        previous = day
    if start is not None and previous is not None:
        yield start, previous + timedelta(days=1)


def refresh(
    session: Session, first: date, end: date, national: timedelta, member: timedelta
) -> int:
    """Roll up again the days in ``[first, end)`` whose roll-up is not current; return how many."""
    if first >= end:
        return 0
    in_range = and_(DAYS.c.day >= first, DAYS.c.day < end)
    known = {
        row.day: row
        for row in session.execute(
            select(DAYS.c.day, DAYS.c.version, DAYS.c.rolled, DAYS.c.national_target,
                   DAYS.c.member_target).where(in_range)
        )
    }  # fmt: skip
    targets = (national.total_seconds(), member.total_seconds())
    stale = [
        first + timedelta(days=n)
        for n in range((end - first).days)
        if (day := known.get(first + timedelta(days=n))) is None
        or day.rolled != day.version
        or (day.national_target, day.member_target) != targets
    ]
    if not stale:
        return 0
    day_of = utc_day(session, AlertRow.created_at)
    for start, stop in runs(stale):
        sums = session.execute(
            select(day_of, AlertRow.severity, *response_sums(session, national, member))
            .where(AlertRow.created_at >= midnight(start), AlertRow.created_at < midnight(stop))
            .group_by(day_of, AlertRow.severity)
        ).all()  # fmt: skip
        session.execute(delete(ROLLUP).where(ROLLUP.c.day >= start, ROLLUP.c.day < stop))
        rows = [dict(zip(_ROLLUP_COLUMNS, (as_date(r[0]), *r[1:]), strict=True)) for r in sums]
        if rows:
            session.execute(ROLLUP.insert(), rows)
    _mark(session, stale, known, targets)
    return len(stale)


_ROLLUP_COLUMNS = (
    "day", "severity", "alerts", "acknowledged", "closed", "tta_seconds",
    "ttr_seconds", "within_national", "within_member",
)  # fmt: skip


def as_date(value: Any) -> date:
    """Return the SQL day ``value`` as a date (SQLite's ``date()`` answers text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _mark(
    session: Session, days: list[date], known: dict[date, Any], targets: tuple[float, float]
) -> None:
    """Mark ``days`` current at the version read before their aggregation (a day changed
    since keeps a newer version, and stays stale)."""
    national, member = targets
    fresh = [d for d in days if d not in known]
    if fresh:
        session.execute(
            upsert(session)(DAYS).on_conflict_do_nothing(index_elements=["day"]),
            [{"day": d, "version": 0, "rolled": 0, "national_target": national,
              "member_target": member} for d in fresh],
        )  # fmt: skip
    seen = [d for d in days if d in known]
    if seen:
        session.execute(
            update(DAYS)
            .where(DAYS.c.day == bindparam("p_day"), DAYS.c.version == bindparam("p_version"))
            .values(rolled=bindparam("p_version"), national_target=national, member_target=member)
            .execution_options(synchronize_session=False),
            [{"p_day": d, "p_version": known[d].version} for d in seen],
        )


def rolled_sums(first: date, end: date) -> Any:
    """Return the query of the roll-up's national sums over ``[first, end)`` per severity, in
    ``response_sums``'s order (an empty organisation, within the national target)."""
    return (
        select(
            literal_column("''"), ROLLUP.c.severity, func.sum(ROLLUP.c.alerts),
            func.sum(ROLLUP.c.acknowledged), func.sum(ROLLUP.c.closed),
            func.sum(ROLLUP.c.tta_seconds), func.sum(ROLLUP.c.ttr_seconds),
            func.sum(ROLLUP.c.within_national),
        )
        .where(ROLLUP.c.day >= first, ROLLUP.c.day < end)
        .group_by(ROLLUP.c.severity)
    )  # fmt: skip
