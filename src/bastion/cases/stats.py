"""How fast the centre responds to cases: MTTA and MTTR, and open cases by age.

MTTA is created → acknowledged (first moved on from ``open`` or given an
owner); MTTR is created → closed. Both are over the cases created in the
period the caller may see, nationally, per severity and per organisation, summed
by the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bastion.cases.alertlinks import AlertResponse, alert_response
from bastion.cases.domain import CaseStatus
from bastion.cases.models import CaseOrgRow, CaseRow
from bastion.cases.read import visible_ids
from bastion.core.scope import Scope
from bastion.core.settings import Settings
from bastion.core.timeutil import as_utc, utcnow
from bastion.store.dialect import in_byte_order, seconds_between, utc_day
from bastion.store.membership import one_of

AGE_BUCKETS = (("under 1 day", 1), ("1-7 days", 7), ("7-30 days", 30), ("over 30 days", None))


@dataclass(frozen=True)
class ResponseTimes:
    """MTTA and MTTR of one slice of cases, in seconds (None when nothing to measure)."""

    key: str
    cases: int
    acknowledged: int
    closed: int
    mtta_seconds: float | None
    mttr_seconds: float | None


@dataclass(frozen=True)
class Day:
    """One day of the period: cases opened and closed, and the MTTA/MTTR of those opened."""

    day: date
    opened: int
    closed: int
    mtta_seconds: float | None
    mttr_seconds: float | None


@dataclass(frozen=True)
class CaseStats:
    since: datetime
    until: datetime
    overall: ResponseTimes
    by_severity: tuple[ResponseTimes, ...]
    by_organisation: tuple[ResponseTimes, ...]
    open_by_age: dict[str, int]
    days: tuple[Day, ...] = ()
    alerts: tuple[AlertResponse, ...] = ()  # the alerts' MTTA/MTTR, from their triage history
    organisations: int = 0  # with cases in the period: by_organisation is one page of them


def _sums(session: Session) -> list[Any]:
    """The aggregates of a slice of cases: how many, acknowledged and closed, and the summed
    seconds to acknowledge and to close."""
    created = CaseRow.created_at
    return [
        func.count(),
        func.count(CaseRow.acknowledged_at),
        func.count(CaseRow.closed_at),
        func.sum(seconds_between(session, CaseRow.acknowledged_at, created)),
        func.sum(seconds_between(session, CaseRow.closed_at, created)),
    ]


def _mean(total: float | None, count: int) -> float | None:
    return round(float(total) / count, 1) if count and total is not None else None


def _times(key: str, sums: Sequence[Any]) -> ResponseTimes:
    """Return MTTA/MTTR (rounded to 0.1 s) of one slice from ``_sums``'s values."""
    cases, acknowledged, closed, tta, ttr = sums
    return ResponseTimes(
        key, int(cases), int(acknowledged), int(closed),
        _mean(tta, int(acknowledged)), _mean(ttr, int(closed)),
    )  # fmt: skip


def _added(rows: Iterable[Sequence[Any]]) -> list[Any]:
    """``_sums``'s values of several slices, added (a sum of nothing: None)."""
    found: list[Any] = [0, 0, 0, None, None]
    for row in rows:
        found = [
            a if b is None else b if a is None else a + b for a, b in zip(found, row, strict=True)
        ]
    return found


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def case_stats(
    session: Session,
    scope: Scope,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
    organisations: tuple[int, int] | None = None,
) -> CaseStats:
    """Return MTTA/MTTR of the cases created in [since, until) and the open cases by age.

    Per organisation: every one, by code; with ``organisations`` (offset, limit) only that
    page of them, the most cases first (a national period has thousands). Summed by the
    database, a few grouped statements whose answers are a few rows each: a national
    month is ~9,000 cases, read from the indexes that cover what is summed of them
    (``cases_0003``).
    """
    moment = now or utcnow()
    end = as_utc(until) if until else moment
    start = as_utc(since) if since else end - timedelta(days=30)
    visible = [CaseRow.merged_into.is_(None)]
    if scope.codes is not None:
        visible.append(CaseRow.id.in_(visible_ids(scope)))
    in_period = [*visible, CaseRow.created_at >= start, CaseRow.created_at < end]
    opened = utc_day(session, CaseRow.created_at)
    slices = session.execute(
        select(opened, CaseRow.severity, *_sums(session))
        .where(*in_period)
        .group_by(opened, CaseRow.severity)
    ).all()
    severities = {
        s: _times(s, _added(r[2:] for r in slices if r[1] == s))
        for s in ("critical", "high", "medium", "low")
    }
    by_day: dict[date, list[Any]] = {}
    for row in slices:
        by_day[_day(row[0])] = _added([by_day.get(_day(row[0]), [0, 0, 0, None, None]), row[2:]])
    closed = utc_day(session, CaseRow.closed_at)
    closed_on = {
        _day(d): int(n)
        for d, n in session.execute(
            select(closed, func.count())
            .where(*visible, CaseRow.closed_at >= start)
            .group_by(closed)
        )
    }
    by_org, count = _organisations(session, scope, in_period, organisations)
    ages = _open_by_age(session, scope, moment)
    alerts = alert_response(session, start, end, scope.codes, settings)
    return CaseStats(
        start, end, _times("all", _added(r[2:] for r in slices)),
        tuple(severities.values()), by_org, ages, _days(by_day, closed_on, start, end),
        tuple(alerts), count,
    )  # fmt: skip


def _organisations(
    session: Session, scope: Scope, in_period: list[Any], page: tuple[int, int] | None
) -> tuple[tuple[ResponseTimes, ...], int]:
    """Return MTTA/MTTR per organisation of the period's cases (all of them by code, or the
    ``page`` (offset, limit) with the most cases first) and how many organisations have any."""
    org = CaseOrgRow.org_code
    where = [*in_period, *(() if scope.codes is None else (one_of(org, scope.codes),))]
    joined = select(org, *_sums(session)).join(CaseRow, CaseRow.id == CaseOrgRow.case_id)
    query = joined.where(*where).group_by(org)
    if page is None:
        query = query.order_by(*in_byte_order(session, org))
    else:
        query = query.order_by(func.count().desc(), *in_byte_order(session, org))
        query = query.offset(page[0]).limit(page[1])
    found = tuple(_times(str(r[0]), r[1:]) for r in session.execute(query))
    count = session.scalar(
        select(func.count(org.distinct())).join(CaseRow, CaseRow.id == CaseOrgRow.case_id)
        .where(*where)
    )  # fmt: skip
    return found, int(count or 0)


def _open_by_age(session: Session, scope: Scope, moment: datetime) -> dict[str, int]:
    """Count the open cases ``scope`` may see by whole days since created, in AGE_BUCKETS.

    One statement counts the open cases created since each bucket's lower bound (and all
    of them): each a range of ``ix_cases_open_age`` counted from the index alone, never a
    row read, where most of a year's cases may be open; a bucket is the difference of two.
    """
    still_open = [s.value for s in CaseStatus if s is not CaseStatus.CLOSED]
    condition = [
        CaseRow.status.in_(still_open),
        CaseRow.merged_into.is_(None),
        CaseRow.created_at < moment + timedelta(days=1),  # whole days: under one day is
    ]  # [moment - 1 d, moment + 1 d)
    if scope.codes is not None:
        condition.append(CaseRow.id.in_(visible_ids(scope)))
    bounds = [upper for _, upper in AGE_BUCKETS if upper is not None]
    counts = [
        select(func.count()).where(*condition, CaseRow.created_at > moment - timedelta(days=days))
        for days in bounds
    ]
    since = session.execute(
        select(*(c.scalar_subquery() for c in counts), select(func.count()).where(*condition)
               .scalar_subquery())
    ).one()  # fmt: skip
    labels = [label for label, _ in AGE_BUCKETS]
    return {
        label: int(since[n]) - (int(since[n - 1]) if n else 0) for n, label in enumerate(labels)
    }


def _days(
    opened: dict[date, list[Any]], closed: dict[date, int], start: datetime, end: datetime
) -> tuple[Day, ...]:
    """Return each day of the period (the last 366 at most) with its figures."""
    first = max(start.date(), end.date() - timedelta(days=365))
    days = [first + timedelta(days=n) for n in range((end.date() - first).days + 1)]
    empty = _times("", [0, 0, 0, None, None])
    found = {day: _times("", sums) for day, sums in opened.items()}
    return tuple(
        Day(day, (t := found.get(day, empty)).cases, closed.get(day, 0), t.mtta_seconds,
            t.mttr_seconds)
        for day in days
    )  # fmt: skip
