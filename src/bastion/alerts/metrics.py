"""How fast the centre responds: MTTA and MTTR from the stored triage transitions.

An alert is acknowledged when it first leaves ``new`` (acknowledged, or assigned
straight away) and resolved when it is closed; both times come from
``alert_history``, never from the alert's current state. MTTA is the mean time
from creation to acknowledgement over the alerts acknowledged, MTTR from creation
to closing over the alerts closed. The share of high and critical alerts
acknowledged within the target counts an alert not (yet) acknowledged as missed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from bastion.alerts.models import AlertHistoryRow, AlertRow
from bastion.core.events import TIMESTAMP
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


def _transitions(
    session: Session, since: datetime, until: datetime, org: str | None
) -> pl.DataFrame:
    state = AlertHistoryRow.field == "state"
    firsts = (
        select(
            AlertHistoryRow.alert_id,
            func.min(
                case((and_(state, AlertHistoryRow.before == "new"), AlertHistoryRow.at))
            ).label("acked"),
            func.min(
                case((and_(state, AlertHistoryRow.after == "closed"), AlertHistoryRow.at))
            ).label("closed"),
        )
        .where(state)
        .group_by(AlertHistoryRow.alert_id)
        .subquery()
    )
    query = (
        select(
            AlertRow.org_code,
            AlertRow.severity,
            AlertRow.created_at,
            firsts.c.acked,
            firsts.c.closed,
        )
        .outerjoin(firsts, firsts.c.alert_id == AlertRow.id)
        .where(AlertRow.created_at >= since, AlertRow.created_at < until)
    )
    if org is not None:
        query = query.where(AlertRow.org_code == org.strip().upper())
    schema = {
        "org": pl.String(),
        "severity": pl.String(),
        "created": TIMESTAMP,
        "acked": TIMESTAMP,
        "closed": TIMESTAMP,
    }
    rows = [tuple(r) for r in session.execute(query)]
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return frame.with_columns(
        (pl.col("acked") - pl.col("created")).dt.total_microseconds().alias("_tta"),
        (pl.col("closed") - pl.col("created")).dt.total_microseconds().alias("_ttr"),
    )


def _figures(frame: pl.DataFrame, by: str | None) -> dict[str | None, ResponseFigures]:
    aggs = [
        pl.len().alias("alerts"),
        pl.col("_tta").count().alias("acknowledged"),
        pl.col("_ttr").count().alias("closed"),
        (pl.col("_tta").mean() / 1e6).alias("mtta"),
        (pl.col("_ttr").mean() / 1e6).alias("mttr"),
    ]
    out = frame.group_by(by).agg(aggs) if by else frame.select(aggs)
    return {
        (r[by] if by else None): ResponseFigures(
            r["alerts"], r["acknowledged"], r["closed"], r["mtta"], r["mttr"]
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
    frame = _transitions(session, start, end, org)
    urgent = frame.filter(pl.col("severity").is_in(_URGENT))
    within = urgent.filter(pl.col("_tta") <= target / timedelta(microseconds=1)).height
    return ResponseMetrics(
        since=start,
        until=end,
        org=org.strip().upper() if org else None,
        ack_target=target,
        overall=_figures(frame, None)[None] if frame.height else ResponseFigures(),
        by_severity={str(k): v for k, v in _figures(frame, "severity").items()},
        by_org={str(k): v for k, v in _figures(frame, "org").items() if k is not None},
        urgent=urgent.height,
        urgent_within_target=within,
        share_within_target=within / urgent.height if urgent.height else None,
    )
