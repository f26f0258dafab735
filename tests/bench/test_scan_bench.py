"""The scan benchmark runs end to end on a few loopback hosts and writes its results file."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_scan_bench_writes_results_for_a_tiny_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO))  # bench/ is a folder of scripts, not installed
    bench = importlib.import_module("bench.scan")
    out = tmp_path / "scan.json"
    bench.main(["--connects", "300", "--hosts", "4", "--targets", "2000", "--results", str(out)])
    report = json.loads(out.read_text())
    cases = {r["case"].split(" (")[0].split(",")[0]: r["value"] for r in report["results"]}
    assert cases["TCP connect+close to 127.0.0.1"] > 0
    assert cases["full scan"] > 0
    assert any("of 4 registered loopback hosts" in r["case"] for r in report["results"])
    assert report["machine"]["load_average_1m"]["max"] >= 0
    assert report["machine"]["note"] == "loopback only"
