"""How fast the centre responds to cases: MTTA and MTTR, and open cases by age.

MTTA is created → acknowledged (first moved on from ``open`` or given an
owner); MTTR is created → closed. Both are over the cases created in the
period the caller may see, nationally, per severity and per organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Float, String, cast, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from bastion.cases.alertlinks import AlertResponse, alert_response
from bastion.cases.domain import CaseStatus
from bastion.cases.models import CaseOrgRow, CaseRow
from bastion.cases.read import visible_ids
from bastion.core.scope import Scope
from bastion.core.settings import Settings
from bastion.core.timeutil import as_utc, utcnow

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


def _stamp(session: Session, column: Any) -> Any:
    """Return ``column`` as PostgreSQL's seconds since the epoch or SQLite's stored text:
    a hundred thousand cases' timestamps are otherwise three hundred thousand datetime
    objects, most of the time the statistics take."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", column), Float)  # numeric otherwise: a Decimal each
    return type_coerce(column, String)


def _as_datetime(name: str, dtype: pl.DataType) -> pl.Expr:
    """Return the expression turning ``_stamp``'s column back into UTC datetimes, in Polars."""
    if dtype == pl.String():
        parsed = pl.col(name).str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us")
    else:
        parsed = pl.from_epoch((pl.col(name) * 1e6).round().cast(pl.Int64), time_unit="us")
    return parsed.dt.replace_time_zone("UTC")


_FIGURES = (
    pl.len().alias("cases"),
    pl.col("tta").count().alias("acknowledged"),
    pl.col("ttr").count().alias("closed"),
    pl.col("tta").mean().round(1).alias("mtta_seconds"),
    pl.col("ttr").mean().round(1).alias("mttr_seconds"),
)


def _times(
    frame: pl.DataFrame, by: str | None = None, *, page: tuple[int, int] | None = None
) -> list[ResponseTimes]:
    """Return MTTA/MTTR of ``frame`` (one slice, or one per value of ``by``) in one aggregation;
    ``page``: only the (offset, limit) slices with the most cases first."""
    figures = frame.select(*_FIGURES) if by is None else frame.group_by(by).agg(*_FIGURES)
    if page is not None and by is not None:
        figures = figures.sort(["cases", by], descending=[True, False]).slice(*page)
    return [
        ResponseTimes(
            key=str(row[by]) if by else "all",
            cases=row["cases"],
            acknowledged=row["acknowledged"],
            closed=row["closed"],
            mtta_seconds=row["mtta_seconds"],
            mttr_seconds=row["mttr_seconds"],
        )
        for row in figures.iter_rows(named=True)
    ]


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
    page of them, the most cases first (a national period has thousands).
    """
    moment = now or utcnow()
    end = as_utc(until) if until else moment
    start = as_utc(since) if since else end - timedelta(days=30)
    query = (
        select(
            CaseRow.id, CaseOrgRow.org_code, CaseRow.severity, CaseRow.status,
            *(_stamp(session, c) for c in (
                CaseRow.created_at, CaseRow.acknowledged_at, CaseRow.closed_at)),
        )
        .join(CaseOrgRow, CaseOrgRow.case_id == CaseRow.id)
        # The period's cases and those closed in it (the open ones' ages: ``_open_by_age``).
        .where(
            CaseRow.merged_into.is_(None),
            or_(CaseRow.created_at >= start, CaseRow.closed_at >= start),
        )
    )  # fmt: skip
    if scope.codes is not None:  # the join gives each case's organisations: keep the caller's
        query = query.where(CaseOrgRow.org_code.in_(scope.codes))
    # The times as seconds since the epoch: a hundred thousand cases' timestamps are
    # three hundred thousand datetime objects otherwise, most of the time spent here.
    stamp = pl.Float64() if session.get_bind().dialect.name == "postgresql" else pl.String()
    schema: dict[str, pl.DataType] = {
        "id": pl.Int64(), "org": pl.String(), "severity": pl.String(), "status": pl.String(),
        "created": stamp, "acked": stamp, "closed": stamp,
    }  # fmt: skip
    rows = pl.DataFrame(
        session.connection().execute(query).all(), schema=schema, orient="row"
    ).with_columns(_as_datetime(c, stamp) for c in ("created", "acked", "closed"))
    rows = rows.with_columns(
        tta=(pl.col("acked") - pl.col("created")).dt.total_seconds(),
        ttr=(pl.col("closed") - pl.col("created")).dt.total_seconds(),
    )
    period = rows.filter((pl.col("created") >= start) & (pl.col("created") < end))
    cases = period.unique("id")
    severities = {t.key: t for t in _times(cases, "severity")}
    by_severity = tuple(
        severities.get(s, ResponseTimes(s, 0, 0, 0, None, None))
        for s in ("critical", "high", "medium", "low")
    )
    if organisations is None:
        by_org = tuple(sorted(_times(period, "org"), key=lambda t: t.key))
    else:
        by_org = tuple(_times(period, "org", page=organisations))
    ages = _open_by_age(session, scope, moment)
    alerts = alert_response(session, start, end, scope.codes, settings)
    return CaseStats(
        start, end, _times(cases)[0], by_severity, by_org, ages, _days(cases, rows, start, end),
        tuple(alerts), period["org"].n_unique(),
    )  # fmt: skip


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
    cases: pl.DataFrame, rows: pl.DataFrame, start: datetime, end: datetime
) -> tuple[Day, ...]:
    """Return each day of the period (the last 366 at most) with its figures."""
    first = max(start.date(), end.date() - timedelta(days=365))
    days = [first + timedelta(days=n) for n in range((end.date() - first).days + 1)]
    opened = cases.group_by(pl.col("created").dt.date().alias("day")).agg(
        pl.len().alias("opened"), pl.col("tta").mean(), pl.col("ttr").mean()
    )
    closed = (
        rows.unique("id")
        .drop_nulls("closed")
        .group_by(pl.col("closed").dt.date().alias("day"))
        .agg(pl.len().alias("closed"))
    )
    by_opened = {r["day"]: r for r in opened.iter_rows(named=True)}
    by_closed = {r["day"]: r["closed"] for r in closed.iter_rows(named=True)}
    return tuple(
        Day(
            day,
            by_opened[day]["opened"] if day in by_opened else 0,
            by_closed.get(day, 0),
            by_opened[day]["tta"] if day in by_opened else None,
            by_opened[day]["ttr"] if day in by_opened else None,
        )
        for day in days
    )
