"""The web benchmark runs end to end on a tiny federation and writes its results file."""

from __future__ import annotations

import json
from pathlib import Path

from bench import web


def test_web_bench_writes_results_for_a_tiny_run(tmp_path: Path) -> None:
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
            "--results",
            str(out),
        ]
    )
    report = json.loads(out.read_text())
    cases = [r["case"] for r in report["results"]]
    assert cases[0].startswith("argon2id hash")
    assert any("member of 100 organisations" in c for c in cases)
    assert all(r["value"] > 0 for r in report["results"])
    assert "shared machine" in report["machine"]["note"]
