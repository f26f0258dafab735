"""Burn-rate alerts match the SRE workbook's multi-window scheme, and fire in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from bastion.uptime.slo import BURN_RULES, BurnSeverity, Slo, budget, burn_rates, firing, slo_frame

T0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
H, M = timedelta(hours=1), timedelta(minutes=1)


@pytest.mark.parametrize(
    ("severity", "budget_share", "long", "short", "factor"),
    [
        ("page", 0.02, 1 * H, 5 * M, 14.4),
        ("page", 0.05, 6 * H, 30 * M, 6.0),
        ("ticket", 0.10, 24 * H, 2 * H, 3.0),
        ("ticket", 0.10, 72 * H, 6 * H, 1.0),
    ],
)
def test_burn_rules_are_the_workbook_table(
    severity: str, budget_share: float, long: timedelta, short: timedelta, factor: float
) -> None:
    matches = [r for r in BURN_RULES if r.long == long]
    assert len(matches) == 1
    rule = matches[0]
    assert (rule.severity.value, rule.budget_share, rule.short, rule.factor) == (
        severity, budget_share, short, factor,
    )  # fmt: skip


def test_there_are_exactly_four_rules() -> None:
    assert len(BURN_RULES) == 4


SLO = Slo("RAL", "Portal", 0.999, id=1)
MONITORS = pl.DataFrame({"monitor": [1], "org": ["RAL"], "service": ["Portal"]})


def scenario(error_rate_at: dict[tuple[int, int], float], minutes: int) -> pl.DataFrame:
    """Minute counts of one monitor probed every 10 s (6 checks a minute)."""
    stamps = [T0 + i * M for i in range(minutes)]
    rates = np.zeros(minutes)
    for (first, last), rate in error_rate_at.items():
        rates[first:last] = rate
    down = np.round(rates * 6).astype(np.uint32)
    return pl.DataFrame(
        {"monitor": [1] * minutes, "minute": stamps, "checks": [6] * minutes, "down": down},
        schema_overrides={"checks": pl.UInt32, "minute": pl.Datetime("us", "UTC")},
    )


def first_firing(counts: pl.DataFrame, start: int, until: int, step: int) -> dict[str, int]:
    """Drive the clock a minute at a time from ``start``; return when each severity first fired."""
    first: dict[str, int] = {}
    slos = slo_frame([SLO])
    for minute in range(start, until, step):
        now = T0 + minute * M
        fired = firing(burn_rates(counts, MONITORS, slos, now))
        if 1 in fired:
            first.setdefault(fired[1].value, minute)
    return first


def test_fast_burn_pages_within_minutes() -> None:
    # A full outage from minute 3 days in: burn 1000x, over 14.4 at once in both windows.
    start = 3 * 24 * 60
    counts = scenario({(start, start + 60): 1.0}, start + 60)
    fired = first_firing(counts, start, start + 60, 1)
    assert fired["page"] - start <= 2  # the 1h window crosses 14.4x in under a minute


def test_slow_burn_tickets_within_a_day_and_never_pages() -> None:
    # From three days in, one check in 198 fails (every 33rd minute, one of six): an error
    # rate of 0.5 %, a 5x burn of a 99.9 % SLO: over the tickets' 3x, under the pages' 6x.
    start = 3 * 24 * 60
    counts = scenario({}, start + 24 * 60)
    down = np.zeros(counts.height, dtype=np.uint32)
    down[start::33] = 1
    counts = counts.with_columns(down=pl.Series(down))
    fired = first_firing(counts, start, start + 24 * 60, 10)
    assert "page" not in fired  # 5x < 6x: no page
    assert "ticket" in fired
    assert fired["ticket"] - start <= 24 * 60  # within the 1-day window


def test_a_blip_is_confirmed_by_the_short_window_and_stops_firing_after() -> None:
    # 6 minutes of outage: the long window still burns > 14.4x an hour later, but the
    # 5-minute window has recovered, so the page clears.
    counts = scenario({(100, 106): 1.0}, 300)
    slos = slo_frame([SLO])
    assert firing(burn_rates(counts, MONITORS, slos, T0 + 106 * M)) == {1: BurnSeverity.PAGE}
    assert firing(burn_rates(counts, MONITORS, slos, T0 + 150 * M)) != {1: BurnSeverity.PAGE}


def test_budget_remaining() -> None:
    spent = budget(SLO, 100_000, 50)
    assert spent.availability == pytest.approx(0.9995)
    assert spent.remaining == pytest.approx(0.5)
