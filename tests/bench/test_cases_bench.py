"""The cases benchmark runs end to end on a few cases and writes its results file."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_cases_bench_writes_results_for_a_tiny_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO))  # bench/ is a folder of scripts, not installed
    bench = importlib.import_module("bench.cases")
    out = tmp_path / "cases.json"
    bench.main(["--cases", "60", "--organisations", "6", "--requests", "10", "--results", str(out)])
    report = json.loads(out.read_text())
    names = {(r["case"].split(" (")[0], r["metric"]) for r in report["results"]}
    assert ("GET /api/v1/cases/{id}", "p95") in names
    assert ("MTTA/MTTR statistics over a year, cases and alerts", "p95") in names
    assert all(r["value"] >= 0 for r in report["results"])
