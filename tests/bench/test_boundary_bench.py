"""The boundary benchmark harness runs end to end on a tiny input and writes a well-formed file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_boundary_bench_writes_results_for_a_tiny_run(tmp_path: Path) -> None:
    results = tmp_path / "boundary.json"
    command = [
        sys.executable, "-m", "bench.boundary", "--events", "3000", "--formats", "zeek",
        "--runs", "e2e", "--networks", "60", "--ip-indicators", "50", "--domain-indicators", "50",
        "--url-patterns", "10", "--workdir", str(tmp_path / "work"), "--results", str(results),
        "--fresh",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr

    document = json.loads(results.read_text(encoding="utf-8"))
    assert {"machine", "date", "results"} <= set(document)
    assert document["machine"]["cores"] >= 1
    rows = {(r["case"], r["metric"]): r for r in document["results"]}
    assert all({"case", "metric", "value", "unit"} <= set(r) for r in document["results"])
    one_core = rows[("zeek", "events_per_s_per_core")]
    assert one_core["value"] > 0
    assert one_core["unit"] == "events/s"
    assert one_core["target"] == 300_000
    assert rows[("end_to_end", "events_per_s_per_core")]["value"] > 0
    assert rows[("all", "peak_rss_mb")]["value"] > 0
    assert rows[("zeek", "peak_rss_mb")]["unit"] == "MB"
    # Every event written went through the pipeline, and the planted C2 beacons raised alerts.
    run = document["runs"]["zeek"]["e2e"]
    assert run["events"] == 3000
    assert run["rejects"] == 0
    assert run["alerts_created"] > 0
