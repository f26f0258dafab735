"""The correlation benchmark runs on a tiny stream and writes a well-formed results file."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def test_correlation_bench_writes_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO))  # bench/ is a folder of scripts, not installed
    bench = importlib.import_module("bench.correlation")
    results = tmp_path / "correlation.json"
    argv = ["--hits", "4000", "--groups", "40", "--batch", "1000", "--results", str(results)]
    assert bench.main(argv) == 0
    document = json.loads(results.read_text(encoding="utf-8"))
    assert {"machine", "date", "results"} <= set(document)
    load = document["machine"]["load_average_1m"]  # measured over the run, not asserted
    assert 0 <= load["min"] <= load["max"]
    rows = {(r["case"], r["metric"]): r["value"] for r in document["results"]}
    for case in ("event_count", "value_count", "value_sum", "temporal_ordered", "all"):
        assert rows[(case, "hits_per_s")] > 0
    # hot groups get ~50 failures each in the two hours: the count rule fires, and all
    # rules together fire what each fires alone
    assert rows[("all", "firings")] == sum(
        rows[(c, "firings")]
        for c in ("event_count", "value_count", "value_sum", "temporal_ordered")
    )
