"""The detection benchmark runs end to end on a tiny input and writes a well-formed results file."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# A benchmark run end to end, if tiny: CI runs it, `make test-fast` leaves it out.
pytestmark = pytest.mark.slow


def test_detect_bench_writes_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data: Path
) -> None:
    monkeypatch.syspath_prepend(str(REPO))  # bench/ is a folder of scripts, not installed
    bench = importlib.import_module("bench.detect")
    results = tmp_path / "detect.json"
    argv = ["--events", "3000", "--sqlite-events", "1000", "--batch", "1000",
            "--rules", str(shared_data / "sigma" / "rules"), "--results", str(results)]  # fmt: skip
    assert bench.main(argv) == 0
    document = json.loads(results.read_text(encoding="utf-8"))
    assert {"machine", "date", "results", "runs"} <= set(document)
    assert "CPU time" in document["machine"]["note"]  # how the per-core rate is taken
    rates = {
        r["case"]: r["value"] for r in document["results"] if r["metric"] == "events_per_s_per_core"
    }
    assert set(rates) == {"bastion", "pysigma-sqlite"}
    assert all(v > 0 for v in rates.values())
    bastion = next(r for r in document["results"] if r["case"] == "bastion")
    assert bastion["events"] == 3000
