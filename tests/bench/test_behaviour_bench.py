"""The behaviour benchmark runs end to end on a tiny day and writes its results file."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_behaviour_bench_writes_results_for_a_tiny_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO))  # bench/ is a folder of scripts, not installed
    bench = importlib.import_module("bench.behaviour")
    monkeypatch.setattr(bench, "CACHE", tmp_path / "cache")
    out = tmp_path / "behaviour.json"
    bench.main(["--events", "40000", "--orgs", "4", "--demo-events", "6000", "--results", str(out)])
    report = json.loads(out.read_text())
    # every planted beacon is found by both engines, and the demo day scores perfectly
    found = [r for r in report["results"] if "planted beacons found" in r["case"]]
    assert [r["value"] for r in found] == [8, 8]
    demo = {r["metric"]: r["value"] for r in report["results"] if r["case"].startswith("demo")}
    assert demo == {"precision": 1.0, "recall": 1.0}
    assert "load_average_1m" in report["machine"]
