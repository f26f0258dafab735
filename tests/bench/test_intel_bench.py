"""The intel benchmark runs end to end on a tiny input and writes a well-formed results file."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# A benchmark run end to end, if tiny: CI runs it, `make test-fast` leaves it out.
pytestmark = pytest.mark.slow


def test_intel_bench_writes_results_for_a_tiny_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO))  # bench/ is a folder of scripts, not installed
    bench = importlib.import_module("bench.intel")
    results = tmp_path / "intel.json"
    argv = [
        "--ips", "2000", "--domains", "2000", "--urls", "200", "--changes", "200",
        "--events", "100000", "--days", "2", "--orgs", "20", "--hunt-indicators", "200",
        "--workdir", str(tmp_path / "work"), "--archive-cache", str(tmp_path / "archive"),
        "--results", str(results),
    ]  # fmt: skip
    assert bench.main(argv) == 0
    document = json.loads(results.read_text(encoding="utf-8"))
    # Each run names the machine it ran on; the hunt says how the page cache was.
    assert {r["machine"]["cores"] for r in document["runs"].values()} == {
        document["machine"]["cores"]
    }
    rows = {(r["case"], r["metric"]): r for r in document["results"]}
    assert rows[("compile", "seconds")]["indicators"] == document["runs"]["compile"]["listings"]
    assert rows[("incremental", "refresh_seconds")]["value"] > 0
    # Every changed indicator probed is live after the refresh; the hunt found planted events.
    incremental = document["runs"]["incremental"]
    assert incremental["probe_hits"] == incremental["probe"] > 0
    assert document["runs"]["retrohunt"]["matched_events"] > 0
    assert rows[("retrohunt", "events_per_s")]["value"] > 0
    assert rows[("retrohunt", "seconds")]["page_cache"] == "as found"
