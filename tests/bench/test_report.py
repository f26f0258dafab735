"""The results files say how busy the machine was from what they measured, never a set phrase."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def report(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(REPO))  # bench/ is a folder of scripts, not installed
    return importlib.import_module("bench._boundary.report")


def _loads(monkeypatch: pytest.MonkeyPatch, values: list[float]) -> None:
    samples = iter(values)
    monkeypatch.setattr(os, "getloadavg", lambda: (next(samples), 0.0, 0.0))
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})


def test_a_quiet_run_is_described_as_measured(
    monkeypatch: pytest.MonkeyPatch, report: ModuleType
) -> None:
    _loads(monkeypatch, [0.4, 1.2, 0.9])
    load = report.Load()
    load.sample()
    conditions = load.conditions()
    assert conditions["load_average_1m"] == {"min": 0.4, "max": 1.2}
    assert "0.4 to 1.2 on 2 usable cores" in conditions["conditions"]
    assert "never more runnable work than cores" in conditions["conditions"]


def test_a_busy_run_says_its_wall_clock_rates_may_be_lower_bounds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, report: ModuleType
) -> None:
    _loads(monkeypatch, [1.5, 9.75])
    path = tmp_path / "results" / "x.json"
    rows = [{"case": "c", "metric": "m", "value": 1, "unit": "u"}]
    report.write_document(path, rows, report.Load(), "loopback only", runs=3)
    document = json.loads(path.read_text(encoding="utf-8"))
    machine = document["machine"]
    assert machine["load_average_1m"] == {"min": 1.5, "max": 9.8}
    assert "lower bounds" in machine["conditions"]
    assert machine["note"] == "loopback only"
    assert (document["results"], document["runs"]) == (rows, 3)
    assert {"cores", "python", "polars"} <= set(machine)


def test_the_machine_says_how_fast_the_host_ran_plain_python(report: ModuleType) -> None:
    # Measured, not stated: twice the work takes longer, and the machine block carries it.
    small, large = report.python_speed(20_000, 3), report.python_speed(200_000, 3)
    assert 0 < small < large
    described = report.machine()
    assert described["python_reference_ms"] > 0
