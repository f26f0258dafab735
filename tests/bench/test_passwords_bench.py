"""The password benchmark runs end to end on a tiny corpus and writes its results file."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_passwords_bench_writes_results_for_a_tiny_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO))  # bench/ is a folder of scripts, not installed
    bench = importlib.import_module("bench.passwords")
    out = tmp_path / "passwords.json"
    args = ["--hashes", "20000", "--compare", "20000", "--queries", "2000"]
    server = ["--server-hashes", "2000", "--server-seconds", "0.5", "--repeats", "1"]
    server += ["--workers", "1", "--backends", "sqlite"]
    bench.main([*args, *server, "--folder", str(tmp_path), "--results", str(out)])
    report = json.loads(out.read_text())
    cases = {(r["case"], r["metric"]) for r in report["results"]}
    assert ("store, batch lookups", "lookups per second") in cases
    assert ("SQLite indexed table", "bytes per hash") in cases
    through = {r["case"]: r for r in report["results"] if r["metric"] == "throughput"}
    range_row = through["server: GET /range/{prefix} (Add-Padding: true), SQLite, 1 workers"]
    check_row = through[
        "server: POST /api/v1/passwords/check (Entra-style policy), SQLite, 1 workers"
    ]
    assert (range_row["target"], check_row["target"]) == (3000.0, 1000.0)
    assert range_row["value"] > 0
    assert check_row["value"] > 0
    assert all(r["hashes"] == 20000 for r in report["results"] if r["part"] != "server")

    # Rerunning one part keeps the other parts' rows, with their own dates.
    bench.main([*args, "--parts", "compare", "--folder", str(tmp_path), "--results", str(out)])
    again = json.loads(out.read_text())
    assert {r["part"] for r in again["results"]} == {"store", "compare", "server"}
    kept = [r for r in again["results"] if r["part"] == "server"]
    assert kept == [r for r in report["results"] if r["part"] == "server"]
    assert again["parts"]["server"] == report["parts"]["server"]
    assert again["parts"]["compare"]["date"] >= report["parts"]["compare"]["date"]
