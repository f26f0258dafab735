"""The web benchmark runs end to end on a tiny federation and writes its results file."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# A benchmark run end to end, if tiny: CI runs it, `make test-fast` leaves it out.
pytestmark = pytest.mark.slow


# The bench's in-process PostgreSQL cases leave a psycopg connection to the garbage
# collector (a leak in bench/web.py, not in Bastion's server; to be closed).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
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
            # Fewer connections than the server's SQL pool (15): over that, a request
            # counted by the SQL rate limiter waits for a second pooled connection while
            # holding one, and the pool deadlocks (a known defect, issue 25's note).
            "--connections",
            "8",
            "--results",
            str(out),
        ]
    )
    report = json.loads(out.read_text())
    cases = [r["case"] for r in report["results"]]
    assert cases[0].startswith("argon2id hash")
    assert any("member of 100 organisations" in c for c in cases)
    assert all(r["value"] > 0 for r in report["results"])
