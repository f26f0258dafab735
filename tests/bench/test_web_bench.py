"""The web benchmark runs end to end on a tiny federation and writes its results file."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# A benchmark run end to end, if tiny: CI runs it, `make test-fast` leaves it out.
pytestmark = pytest.mark.slow


def test_web_bench_writes_results_for_a_tiny_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO))  # bench/ is a folder of scripts, not installed
    web = importlib.import_module("bench.web")
    out = tmp_path / "web.json"
    web.main(
        [
            "--organisations",
            "120",
            "--alerts",
            "300",
            "--seconds",
            "0.2",
            "--rounds",
            "1",
            "--repeats",
            "1",
            "--hashes",
            "2000",
            "--backends",
            "sqlite",  # PostgreSQL's cases run the same code; their migrations would double the time
            "--results",
            str(out),
        ]
    )
    report = json.loads(out.read_text())
    cases = [r["case"] for r in report["results"]]
    assert cases[0].startswith("argon2id hash")
    assert any("member of 100 organisations" in c for c in cases)
    # Beside the list through the server, the floor: the same caller, no list read.
    assert any(c.startswith("GET /api/v1/me (the caller alone) through the server") for c in cases)
    assert all(r["value"] > 0 for r in report["results"])
