"""The cases benchmark runs end to end on a few cases and writes its results file."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

# Every figure the benchmark writes for a backend, its label "(sqlite, 60 cases, …)" left out.
EVERY_CASE = {
    ("bulk load of the alerts and their history", "time"),
    ("bulk load of the cases", "time"),
    ("daily roll-up of a year of alerts, once after the bulk load", "time"),
    *(
        (name, metric)
        for name in (
            "GET /api/v1/cases/{id}, national analyst",
            "GET /api/v1/cases/{id}, member lead",
            "GET /api/v1/cases?limit=50&open=true, national analyst",
            "MTTA/MTTR statistics over a year, cases and alerts, national",
            "MTTA/MTTR statistics over a year, cases and alerts, one member",
            "open one case from a template through the service",
        )
        for metric in ("p50", "p95")
    ),
}
LABEL = re.compile(r" \(((\w+), [^)]*)\)")


def test_cases_bench_writes_results_for_a_tiny_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO))  # bench/ is a folder of scripts, not installed
    bench = importlib.import_module("bench.cases")
    out = tmp_path / "cases.json"
    # A few thousand alerts over the year: the statistics and the roll-up still span it.
    bench.main(
        ["--cases", "60", "--alerts", "3000", "--organisations", "6", "--requests", "10",
         "--results", str(out)]
    )  # fmt: skip
    report = json.loads(out.read_text())
    assert "load_average_1m" in report["machine"]
    found: dict[str, set[tuple[str, str]]] = {}
    for r in report["results"]:
        label = LABEL.search(r["case"])
        assert label is not None, r["case"]
        assert "3,000 alerts" in label[1], label[1]
        found.setdefault(label[2], set()).add((LABEL.sub("", r["case"]), r["metric"]))
    # SQLite always; PostgreSQL too when a server answers at 127.0.0.1:5432.
    assert "sqlite" in found
    assert found == dict.fromkeys(found, EVERY_CASE)
    assert all(r["value"] >= 0 for r in report["results"])
