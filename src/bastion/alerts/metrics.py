"""How fast the centre responds: MTTA and MTTR from the stored triage transitions.

An alert is acknowledged when it first leaves ``new`` (acknowledged, or assigned
straight away) and resolved when it is closed; both times are the stored state
transitions (``acknowledged_at`` and ``closed_at``, written by triage with the
``alert_history`` row of the same change; alerts_0002 filled them from the history). MTTA is the mean time
from creation to acknowledgement over the alerts acknowledged, MTTR from creation
to closing over the alerts closed. The share of high and critical alerts
acknowledged within the target counts an alert not (yet) acknowledged as missed.
The sums are taken in SQL, one row per organisation and severity: for the whole
past days of the period from their daily roll-up (``bastion.alerts.rollup``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import polars as pl
from sqlalchemy import literal_column, select
from sqlalchemy.orm import Session

from bastion.alerts import rollup
from bastion.alerts.models import AlertRow
from bastion.core.settings import Settings
from bastion.core.timeutil import as_utc, utcnow

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
    # per organisation: asked for with per_org (or the one org); nationally it costs a scan
    by_org: dict[str, ResponseFigures] = field(default_factory=dict)
    urgent: int = 0  # high and critical alerts
    urgent_within_target: int = 0  # of them, acknowledged within ack_target
    share_within_target: float | None = None  # urgent_within_target / urgent


_SCHEMA = {
    "org": pl.String(),
    "severity": pl.String(),
    "alerts": pl.Int64(),
    "acknowledged": pl.Int64(),
    "closed": pl.Int64(),
    "_tta": pl.Float64(),
    "_ttr": pl.Float64(),
    "_within": pl.Int64(),
}


def _slices(
    session: Session,
    since: datetime,
    until: datetime,
    org: str | None,
    config: Settings,
    per_org: bool,
) -> pl.DataFrame:
    """Sum the response times per (organisation, severity) in SQL, a row per slice, never per
    alert. Nationally (unless ``per_org``) the whole past days of the period come from their
    daily roll-up (``bastion.alerts.rollup``) and only today and the part days at its ends
    from the alerts; one organisation's come from the alerts through a covering index."""
    code = org.strip().upper() if org else None
    target = config.alert_ack_target_national if org is None else config.alert_ack_target_member
    queries, edges = [], [(since, until)]
    if code is None and not per_org:
        first, end = rollup.whole_days(since, until, utcnow().date())
        if first < end:
            rollup.refresh(
                session, first, end, config.alert_ack_target_national,
                config.alert_ack_target_member,
            )  # fmt: skip
            queries.append(rollup.rolled_sums(first, end))
            edges = [(since, _at(first)), (_at(end), until)]
    # PostgreSQL groups by no constant: nationally, the organisation is a constant "".
    by = [rollup.ORG, AlertRow.severity] if code or per_org else [AlertRow.severity]
    for start, stop in edges:
        if start >= stop:
            continue
        live = (
            select(*by[:-1] or [literal_column("''")], AlertRow.severity)
            .add_columns(*rollup.response_sums(session, target))
            .where(AlertRow.created_at >= start, AlertRow.created_at < stop)
            .group_by(*by)
        )
        queries.append(live if code is None else live.where(AlertRow.org_code == code))
    rows = [tuple(r) for query in queries for r in session.execute(query)]
    frame = pl.DataFrame(rows, schema=_SCHEMA, orient="row")
    return (
        frame.group_by("org", "severity")
        .agg(pl.exclude("org", "severity").sum())
        .with_columns(pl.when(pl.col("org") != "").then(pl.col("org")).alias("org"))
    )


def _at(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _figures(frame: pl.DataFrame, by: str | None) -> dict[str | None, ResponseFigures]:
    aggs = [
        pl.col("alerts").sum(),
        pl.col("acknowledged").sum(),
        pl.col("closed").sum(),
        # to the millisecond: sums from the roll-up and from the alerts agree to that
        (pl.col("_tta").sum() / pl.col("acknowledged").sum()).round(3).alias("mtta"),
        (pl.col("_ttr").sum() / pl.col("closed").sum()).round(3).alias("mttr"),
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
    per_org: bool = False,
) -> ResponseMetrics:
    """Return MTTA/MTTR of the alerts created in ``[since, until)`` (of ``org``, or national)."""
    start, end = as_utc(since), as_utc(until)
    config = settings or Settings()
    target = config.alert_ack_target_national if org is None else config.alert_ack_target_member
    frame = _slices(session, start, end, org, config, per_org)
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
