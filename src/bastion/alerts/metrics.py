"""How fast the centre responds: MTTA and MTTR from the stored triage transitions.

An alert is acknowledged when it first leaves ``new`` (acknowledged, or assigned
straight away) and resolved when it is closed; both times are the stored state
transitions (``acknowledged_at`` and ``closed_at``, written by triage with the
``alert_history`` row of the same change; alerts_0002 filled them from the history). MTTA is the mean time
from creation to acknowledgement over the alerts acknowledged, MTTR from creation
to closing over the alerts closed. The share of high and critical alerts
acknowledged within the target counts an alert not (yet) acknowledged as missed.
The sums are taken in SQL, one row per organisation and severity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bastion.alerts.models import AlertRow
from bastion.core.settings import Settings
from bastion.core.timeutil import as_utc

_URGENT = ("high", "critical")


@dataclass(frozen=True)
class ResponseFigures:
    """Counts and mean response times of one slice of alerts (seconds; None when none)."""

    alerts: int = 0
    acknowledged: int = 0
    closed: int = 0
    mtta_seconds: float | None = None
    mttr_seconds: float | None = None


@dataclass(frozen=True)
class ResponseMetrics:
    """MTTA/MTTR of the alerts created in ``[since, until)``, overall, per severity and org."""

    since: datetime
    until: datetime
    org: str | None
    ack_target: timedelta  # national target when org is None, the member target otherwise
    overall: ResponseFigures
    by_severity: dict[str, ResponseFigures] = field(default_factory=dict)
    by_org: dict[str, ResponseFigures] = field(default_factory=dict)
    urgent: int = 0  # high and critical alerts
    urgent_within_target: int = 0  # of them, acknowledged within ack_target
    share_within_target: float | None = None  # urgent_within_target / urgent


def _seconds(session: Session, later: Any, earlier: Any) -> Any:
    """Return the SQL expression of ``later - earlier`` in seconds, on either backend."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86_400.0


def _slices(
    session: Session, since: datetime, until: datetime, org: str | None, target: timedelta
) -> pl.DataFrame:
    """Sum the response times per (organisation, severity) in SQL: a row per slice, not per
    alert, so a year of a million alerts never crosses into Python one by one. The times
    are the alert's ``acknowledged_at`` and ``closed_at``, which triage writes with the
    history row of the same transition."""
    tta = _seconds(session, AlertRow.acknowledged_at, AlertRow.created_at)
    ttr = _seconds(session, AlertRow.closed_at, AlertRow.created_at)
    query = (
        select(
            AlertRow.org_code,
            AlertRow.severity,
            func.count(),
            func.count(AlertRow.acknowledged_at),
            func.count(AlertRow.closed_at),
            func.sum(tta),
            func.sum(ttr),
            func.sum(case((tta <= target.total_seconds(), 1), else_=0)),
        )
        .where(AlertRow.created_at >= since, AlertRow.created_at < until)
        .group_by(AlertRow.org_code, AlertRow.severity)
    )
    if org is not None:
        query = query.where(AlertRow.org_code == org.strip().upper())
    schema = {
        "org": pl.String(),
        "severity": pl.String(),
        "alerts": pl.Int64(),
        "acknowledged": pl.Int64(),
        "closed": pl.Int64(),
        "_tta": pl.Float64(),
        "_ttr": pl.Float64(),
        "_within": pl.Int64(),
    }
    rows = [tuple(r) for r in session.execute(query)]
    return pl.DataFrame(rows, schema=schema, orient="row")


def _figures(frame: pl.DataFrame, by: str | None) -> dict[str | None, ResponseFigures]:
    aggs = [
        pl.col("alerts").sum(),
        pl.col("acknowledged").sum(),
        pl.col("closed").sum(),
        (pl.col("_tta").sum() / pl.col("acknowledged").sum()).alias("mtta"),
        (pl.col("_ttr").sum() / pl.col("closed").sum()).alias("mttr"),
    ]
    out = frame.group_by(by).agg(aggs) if by else frame.select(aggs)
    return {
        (r[by] if by else None): ResponseFigures(
            r["alerts"],
            r["acknowledged"],
            r["closed"],
            r["mtta"] if r["acknowledged"] else None,
            r["mttr"] if r["closed"] else None,
        )
        for r in out.iter_rows(named=True)
    }


def response_metrics(
    session: Session,
    since: datetime,
    until: datetime,
    org: str | None = None,
    *,
    settings: Settings | None = None,
) -> ResponseMetrics:
    """Return MTTA/MTTR of the alerts created in ``[since, until)`` (of ``org``, or national)."""
    start, end = as_utc(since), as_utc(until)
    config = settings or Settings()
    target = config.alert_ack_target_national if org is None else config.alert_ack_target_member
    frame = _slices(session, start, end, org, target)
    urgent_slices = frame.filter(pl.col("severity").is_in(_URGENT))
    urgent = int(urgent_slices["alerts"].sum())
    within = int(urgent_slices["_within"].sum())
    return ResponseMetrics(
        since=start,
        until=end,
        org=org.strip().upper() if org else None,
        ack_target=target,
        overall=_figures(frame, None)[None] if frame.height else ResponseFigures(),
        by_severity={str(k): v for k, v in _figures(frame, "severity").items()},
        by_org={str(k): v for k, v in _figures(frame, "org").items() if k is not None},
        urgent=urgent,
        urgent_within_target=within,
        share_within_target=within / urgent if urgent else None,
    )
