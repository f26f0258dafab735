"""The listener benchmark sends, stops the real listener and writes a well-formed results file."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_listen_bench_writes_results_for_a_tiny_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO))  # bench/ is a folder of scripts, not installed
    listen = importlib.import_module("bench.listen")
    results = tmp_path / "listen.json"

    argv = ["--rates", "2000", "--seconds", "0.5", "--distinct", "300", "--results", str(results)]
    assert listen.main(argv) == 0

    document = json.loads(results.read_text(encoding="utf-8"))
    assert {"machine", "date", "results"} <= set(document)
    assert document["machine"]["cores"] >= 1
    assert "load_average_1m" in document["machine"]["conditions"]
    assert all({"case", "metric", "value", "unit"} <= set(r) for r in document["results"])
    rows = {r["metric"]: r for r in document["results"] if r["case"] == "panos_udp_2000"}
    assert rows["lines_sent"]["value"] == 1000
    drops = rows["kernel_udp_drops"]
    assert (drops["unit"], drops["target"]) == ("lines", 0)
    # Whatever the machine's load, every line is accounted for: received or counted dropped,
    # and every line received went through the pipeline (PAN-OS lines parse: none rejected).
    assert rows["lines_received"]["value"] + drops["value"] == 1000
    assert rows["lines_archived"]["value"] == rows["lines_received"]["value"]
    assert rows["lines_rejected"]["value"] == 0
    # The CPU a line costs is the figure a loaded machine cannot distort much: it is there.
    assert rows["listener_cpu_us_per_line"]["value"] > 0
    assert (
        0
        <= rows["udp_receive_cpu_us_per_line"]["value"]
        < rows["listener_cpu_us_per_line"]["value"]
    )
