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
    bench.main([*args, "--folder", str(tmp_path), "--results", str(out)])
    report = json.loads(out.read_text())
    cases = {(r["case"], r["metric"]) for r in report["results"]}
    assert ("store, batch lookups", "lookups per second") in cases
    assert ("SQLite indexed table", "bytes per hash") in cases
    assert all(r["hashes"] == 20000 for r in report["results"])
