"""The SLI benchmark runs end to end on a tiny archive and counts what it wrote."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_slis_bench_reads_what_it_archived(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO))  # bench/ is a folder of scripts, not installed
    bench = importlib.import_module("bench.slis")
    out = tmp_path / "slis.json"
    argv = ["--days", "2", "--events-per-day", "5000", "--hosts", "10", "--repeats", "1"]
    assert bench.main([*argv, "--results", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    rows = {(r["case"], r["metric"]): r for r in report["results"]}
    national = rows[("national, 5 hosts, 2 days", "median")]
    member = rows[("member of one organisation, 5 hosts, 2 days", "median")]
    last_day = rows[("national, 5 hosts, the last day", "median")]
    # Half the hosts are the service's: about half of the 10,000 requests are counted.
    assert 4_000 < national["requests_counted"] < 6_000
    assert 0 < member["requests_counted"] < national["requests_counted"]
    assert 0 < last_day["requests_counted"] < national["requests_counted"]
    assert national["archived_events"] == 10_000
