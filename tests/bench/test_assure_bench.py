"""The assurance benchmark runs end to end on a few returns and writes its results file."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_assure_bench_writes_results_for_a_tiny_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO))  # bench/ is a folder of scripts, not installed
    bench = importlib.import_module("bench.assure")
    out = tmp_path / "assure.json"
    bench.main(["--returns", "200", "--requests", "5", "--results", str(out)])
    report = json.loads(out.read_text())
    names = {(r["case"].split(" (")[0], r["metric"]) for r in report["results"]}
    assert ("GET /api/v1/assure/dashboard", "p95") in names
    assert ("national dashboard computed afresh, no kept copy", "p95") in names
    assert ("publish one return through the service", "p95") in names
    assert all(r["value"] >= 0 for r in report["results"])
