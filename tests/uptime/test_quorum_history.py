"""Quorum decisions, maintenance windows and the minute/hour/day history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from bastion.uptime import maintenance
from bastion.uptime.history import History
from bastion.uptime.quorum import MONITOR_SCHEMA, minutes

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MONITORS = pl.DataFrame({"monitor": [1], "interval_s": [30], "quorum": [2]}, schema=MONITOR_SCHEMA)


def results(n_minutes: int, down_agents: set[str], *, start: datetime = T0) -> pl.DataFrame:
    """Three agents probe monitor 1 every 30 s; the agents in ``down_agents`` see it down."""
    rows = [
        {"monitor": 1, "agent": agent, "at": start + timedelta(seconds=30 * i + 3),
         "ok": agent not in down_agents, "latency_ms": 12.0}
        for i in range(n_minutes * 2)
        for agent in ("london", "leeds", "cardiff")
    ]  # fmt: skip
    return pl.DataFrame(rows)


def test_one_agent_seeing_down_is_not_a_down_check() -> None:
    counted = minutes(results(10, {"leeds"}), MONITORS)
    assert counted["checks"].sum() == 20
    assert counted["down"].sum() == 0  # the single vantage point's failure does not count


def test_two_of_three_agents_agreeing_make_a_down_check() -> None:
    counted = minutes(results(10, {"leeds", "cardiff"}), MONITORS)
    assert counted["down"].sum() == 20
    assert counted["latency_n"].sum() == 0  # no good probe: no latency counted


def test_a_lone_reporting_agent_decides_alone() -> None:
    lone = results(5, {"leeds"}).filter(pl.col("agent") == "leeds")
    assert minutes(lone, MONITORS)["down"].sum() == 10


def test_checks_in_a_maintenance_window_spend_no_budget() -> None:
    window = maintenance(T0 + timedelta(minutes=2), 3, monitor_id=1, repeat="daily")
    counted = minutes(results(10, {"leeds", "cardiff"}), MONITORS, [(window, [1])])
    assert counted["maintenance"].sum() == 6
    assert counted["down"].sum() == 14
    tomorrow = np.array([int((T0 + timedelta(days=1, minutes=3)).timestamp())])
    assert window.covers(tomorrow).tolist() == [True]
    once = maintenance(T0, 3, monitor_id=1)
    assert once.covers(tomorrow).tolist() == [False]


def test_history_rolls_minutes_into_hours_and_days_with_the_same_sums(tmp_path: Path) -> None:
    history = History(tmp_path)
    raw = results(120, {"leeds", "cardiff"}, start=T0)
    hours = history.append_raw(raw, "batch-1")
    assert hours == {T0, T0 + timedelta(hours=1)}
    history.append_raw(raw, "batch-1")  # redelivered: overwrites itself
    for hour in sorted(hours):
        history.write_minutes(hour, minutes(history.raw(hour), MONITORS))
    soon = T0 + timedelta(hours=3)
    before = history.counts(T0, soon, now=soon)
    assert (before["checks"].sum(), before["down"].sum()) == (240, 240)
    later = T0 + timedelta(days=3)
    done = history.roll_up(later)
    assert done["hours"] == 2
    assert not list((tmp_path / "minute").glob("*"))  # past 24 h: minutes dropped
    after = history.counts(T0, soon, now=later)
    assert after.height == 2  # two hourly rows now
    assert (after["checks"].sum(), after["down"].sum()) == (240, 240)
    far = T0 + timedelta(days=60)
    history.roll_up(far)
    daily = history.counts(T0 - timedelta(days=1), soon, now=far)
    assert daily.height == 1
    assert daily["down"].sum() == 240
