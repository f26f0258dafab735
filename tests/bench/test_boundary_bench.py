"""The boundary benchmark harness runs end to end on a tiny input and writes a well-formed file."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from bastion.boundary.parsers import PARSERS
from bastion.core.registry import Registry

REPO = Path(__file__).resolve().parents[2]

# A benchmark run end to end, if tiny: CI runs it, `make test-fast` leaves it out.
pytestmark = pytest.mark.slow


def test_boundary_bench_writes_results_for_a_tiny_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(REPO))  # bench/ is a folder of scripts, not installed
    boundary = importlib.import_module("bench.boundary")
    results = tmp_path / "boundary.json"
    argv = [
        "--events", "3000", "--formats", "zeek", "--runs", "e2e", "--networks", "60",
        "--ip-indicators", "50", "--domain-indicators", "50", "--url-patterns", "10",
        "--workdir", str(tmp_path / "work"), "--results", str(results), "--fresh",
    ]  # fmt: skip

    assert boundary.main(argv) == 0

    document = json.loads(results.read_text(encoding="utf-8"))
    assert {"machine", "date", "results"} <= set(document)
    assert all({"case", "metric", "value", "unit"} <= set(r) for r in document["results"])
    rows = {(r["case"], r["metric"]): r for r in document["results"]}
    one_core = rows[("zeek", "events_per_s_per_core")]
    assert one_core["value"] > 0
    assert (one_core["unit"], one_core["target"]) == ("events/s", 300_000)
    assert rows[("end_to_end", "events_per_s_per_core")]["value"] > 0
    assert rows[("all", "peak_rss_mb")]["value"] > 0
    # The day's compaction is measured after the ingest, apart from it.
    assert rows[("zeek", "compaction_seconds")]["files_written"] > 0
    assert 0 < rows[("zeek", "events_per_s_per_core_with_compaction")]["value"] <= one_core["value"]
    # Every event written went through the pipeline, and the planted C2 beacons raised alerts.
    run = document["runs"]["zeek"]["e2e"]
    assert (run["events"], run["rejects"]) == (3000, 0)
    assert run["alerts_created"] > 0
    assert "zeek" in capsys.readouterr().out  # the table was printed


def test_boundary_bench_skips_a_format_whose_parser_is_not_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO))
    boundary = importlib.import_module("bench.boundary")
    without_zeek = Registry("log format", [(n, p) for n, p in PARSERS.items() if n != "zeek"])
    monkeypatch.setattr(boundary, "PARSERS", without_zeek)
    results = tmp_path / "boundary.json"
    argv = [
        "--events", "3000", "--formats", "zeek", "--runs", "e2e", "--networks", "60",
        "--ip-indicators", "50", "--domain-indicators", "50", "--url-patterns", "10",
        "--workdir", str(tmp_path / "work"), "--results", str(results), "--fresh",
    ]  # fmt: skip

    assert boundary.main(argv) == 0

    document = json.loads(results.read_text(encoding="utf-8"))
    assert "not registered" in document["skipped"]["zeek"]
    assert not [r for r in document["results"] if r["case"] == "zeek"]
