"""The advisories benchmark runs end to end at a tiny scale and writes a well-formed file."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# A benchmark run end to end, if tiny: CI runs it, `make test-fast` leaves it out.
pytestmark = pytest.mark.slow


def test_advisories_bench_writes_results_for_a_tiny_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data: Path
) -> None:
    monkeypatch.syspath_prepend(str(REPO))  # bench/ is a folder of scripts, not installed
    bench = importlib.import_module("bench.advisories")
    results = tmp_path / "advisories.json"
    argv = ["--orgs", "40", "--components", "50", "--advisories", "300", "--packages", "400",
            "--results", str(results)]  # fmt: skip
    assert bench.main(argv) == 0
    document = json.loads(results.read_text(encoding="utf-8"))
    assert {"machine", "date", "results"} <= set(document)
    rows = {(r["case"], r["metric"]): r for r in document["results"]}
    full = rows[("full match", "seconds")]
    assert full["components"] == 2000
    assert full["exposures"] > 0
    assert (
        rows[("one new advisory vs all inventories", "max_seconds")]["same_as_full_match"] is True
    )
    assert all({"case", "metric", "value", "unit"} <= set(r) for r in document["results"])
