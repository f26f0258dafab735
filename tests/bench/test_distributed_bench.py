"""The distributed benchmark runs real workers on its own NATS and a PostgreSQL database, tiny."""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

import pytest
from tests.conftest import need_service

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.nats, pytest.mark.postgres]


def test_distributed_bench_writes_results_for_a_tiny_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_admin_url: str
) -> None:
    if shutil.which("nats-server") is None:
        need_service("nats-server")
    monkeypatch.syspath_prepend(str(REPO))  # bench/ is a folder of scripts, not installed
    bench = importlib.import_module("bench.distributed")
    results = tmp_path / "distributed.json"
    admin = postgres_admin_url.replace("postgresql+psycopg://", "postgresql://", 1)
    argv = [
        "--events", "12000", "--rate", "3000", "--lag-seconds", "3", "--distinct", "2000",
        "--postgres", admin, "--results", str(results),
    ]  # fmt: skip

    assert bench.main(argv) == 0

    document = json.loads(results.read_text(encoding="utf-8"))
    assert "load_average_1m" in document["machine"]
    rows = {(r["case"], r["metric"]): r for r in document["results"]}
    for case in ("1 worker", "2 workers"):
        assert rows[(case, "throughput")]["unit"] == "events/s"
        assert rows[(case, "throughput")]["value"] > 0
        assert document["runs"][case]["archived"] == 12000  # every line, once, by the workers
    assert rows[("2 workers", "scaling_ratio")]["target"] == 1.7
    lag = rows[("2 workers at 3000 events/s", "end_to_end_lag_max")]
    assert (lag["unit"], lag["target"]) == ("s", 10.0)
    assert document["runs"]["lag"]["archived"] == document["runs"]["lag"]["events_offered"]
    assert 0 < rows[("all", "peak_rss_mb_per_worker")]["value"] < 1536
