"""Service-level objectives: error budgets and multi-window, multi-burn-rate alerts.

An SLO is a target availability of one organisation's service over a period
(30 days by default). Its SLI is the share of quorum-decided checks of the
service's monitors that were up, maintenance left out. The burn rate over a
window is the error rate there divided by the budget (1 - target): burning at
1x spends the whole budget in exactly the period.

``BURN_RULES`` are the SRE workbook's recommended alerts for a 30-day SLO: each
fires when the burn over its long window *and* over its short confirming window
(1/12 of the long) both reach its factor, the factor being the share of the
budget spent in the long window times the period over the window. Evaluation is
one Polars group-by over every SLO's counts, never a loop per result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from bastion.core.choices import Choice
from bastion.core.timeutil import as_utc

PERIOD = timedelta(days=30)


class BurnSeverity(Choice, what="burn severity"):
    PAGE = "page"
    TICKET = "ticket"


@dataclass(frozen=True)
class BurnRule:
    """Alert when this share of a 30-day budget burns within ``long`` (confirmed over ``short``)."""

    severity: BurnSeverity
    budget_share: float
    long: timedelta
    short: timedelta

    @property
    def factor(self) -> float:
        return round(self.budget_share * (PERIOD / self.long), 6)

    @property
    def name(self) -> str:
        return f"{self.severity.value}:{_span(self.long)}/{_span(self.short)}"


def _span(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


BURN_RULES: tuple[BurnRule, ...] = (
    BurnRule(BurnSeverity.PAGE, 0.02, timedelta(hours=1), timedelta(minutes=5)),
    BurnRule(BurnSeverity.PAGE, 0.05, timedelta(hours=6), timedelta(minutes=30)),
    BurnRule(BurnSeverity.TICKET, 0.10, timedelta(days=1), timedelta(hours=2)),
    BurnRule(BurnSeverity.TICKET, 0.10, timedelta(days=3), timedelta(hours=6)),
)
WINDOWS: tuple[timedelta, ...] = tuple(sorted({w for r in BURN_RULES for w in (r.long, r.short)}))
LOOKBACK = max(WINDOWS)


@dataclass(frozen=True)
class Slo:
    """A target availability of one organisation's service."""

    org: str
    service: str
    target: float
    period_days: int = 30
    name: str = ""
    id: int = 0

    @property
    def budget(self) -> float:
        return 1.0 - self.target


def slo_frame(slos: Sequence[Slo]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "slo": [s.id for s in slos],
            "org": [s.org for s in slos],
            "service": [s.service for s in slos],
            "target": [s.target for s in slos],
        },
        schema={"slo": pl.Int64, "org": pl.String, "service": pl.String, "target": pl.Float64},
    )


def _col(window: timedelta) -> str:
    return f"burn_{_span(window)}"


def burn_rates(
    counts: pl.DataFrame, monitors: pl.DataFrame, slos: pl.DataFrame, now: datetime
) -> pl.DataFrame:
    """Return one row per SLO: the burn rate over every alert window, and the rules firing.

    ``counts`` are history rows (monitor, minute, checks, down) covering at least the
    last three days (``History.recent``); ``monitors`` map monitor to (org, service);
    periods beginning at or after ``now`` are not yet seen and are ignored.
    """
    now = as_utc(now)
    edges = np.array([w.total_seconds() for w in WINDOWS])
    seen = counts.filter(pl.col("minute") < now)
    age = int(now.timestamp()) - seen["minute"].dt.epoch("s").to_numpy()
    # Each row falls in the narrowest window holding it; a window's sum is then the sum of
    # its own bucket and every narrower one. One integer group-by over all rows, then small.
    per_bucket = (
        seen.select("monitor", "checks", "down")
        .with_columns(bucket=pl.Series(np.searchsorted(edges, age, side="left").astype(np.uint8)))
        .filter(pl.col("bucket") < len(edges))
        .group_by("monitor", "bucket")
        .agg(pl.col("checks").sum(), pl.col("down").sum())
        .join(monitors.select("monitor", "org", "service"), on="monitor")
    )
    aggregates = []
    for index, window in enumerate(WINDOWS):
        inside = pl.col("bucket") <= index
        aggregates += [
            pl.col("checks").filter(inside).sum().alias(f"checks_{_span(window)}"),
            pl.col("down").filter(inside).sum().alias(f"down_{_span(window)}"),
        ]
    sums = per_bucket.group_by("org", "service").agg(aggregates)
    frame = slos.join(sums, on=["org", "service"], how="left").fill_null(0)
    budget = 1.0 - pl.col("target")
    frame = frame.with_columns(
        (
            pl.when(pl.col(f"checks_{_span(w)}") > 0)
            .then(pl.col(f"down_{_span(w)}") / pl.col(f"checks_{_span(w)}") / budget)
            .otherwise(0.0)
        ).alias(_col(w))
        for w in WINDOWS
    )
    return frame.with_columns(
        ((pl.col(_col(r.long)) >= r.factor) & (pl.col(_col(r.short)) >= r.factor)).alias(r.name)
        for r in BURN_RULES
    ).select("slo", "org", "service", "target", *(_col(w) for w in WINDOWS),
             *(r.name for r in BURN_RULES))  # fmt: skip


def firing(rates: pl.DataFrame) -> dict[int, BurnSeverity]:
    """Return, per SLO with an alert firing, its most severe level (page over ticket)."""
    page = [r.name for r in BURN_RULES if r.severity is BurnSeverity.PAGE]
    ticket = [r.name for r in BURN_RULES if r.severity is BurnSeverity.TICKET]
    marked = rates.select(
        "slo", page=pl.any_horizontal(page), ticket=pl.any_horizontal(ticket)
    ).filter(pl.col("page") | pl.col("ticket"))
    return {
        int(slo): BurnSeverity.PAGE if is_page else BurnSeverity.TICKET
        for slo, is_page in zip(marked["slo"], marked["page"], strict=True)
    }


@dataclass(frozen=True)
class Budget:
    """Where an SLO stands over its period."""

    availability: float | None  # None: no checks yet
    checks: int
    down: int
    allowed_down: float
    remaining: float  # share of the error budget left (negative: overspent)


def budget(slo: Slo, checks: int, down: int) -> Budget:
    """Return the SLO's availability and remaining error budget from its period's counts."""
    allowed = slo.budget * checks
    availability = None if checks == 0 else 1.0 - down / checks
    remaining = 1.0 if allowed == 0 else 1.0 - down / allowed
    return Budget(availability, checks, down, allowed, remaining)


def burn_series(counts: pl.DataFrame, slo: Slo, every: str = "1h") -> pl.DataFrame:
    """Return the budget spent per period and in total so far (for the burn-down chart)."""
    per = (
        counts.with_columns(pl.col("minute").dt.truncate(every))
        .group_by("minute")
        .agg(pl.col("checks").sum(), pl.col("down").sum())
        .sort("minute")
    )
    total = max(int(per["checks"].sum()), 1) if per.height else 1
    spent = per["down"].to_numpy().astype(np.float64) / (slo.budget * total)
    return per.with_columns(spent=pl.Series(spent), remaining=pl.Series(1.0 - np.cumsum(spent)))
