"""The console benchmark runs end to end on a tiny store and writes its results file."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# A benchmark run end to end, if tiny: CI runs it, `make test-fast` leaves it out.
pytestmark = pytest.mark.slow


def test_console_bench_measures_every_console_page_for_both_roles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO))  # bench/ is a folder of scripts, not installed
    bench = importlib.import_module("bench.console")
    out = tmp_path / "console.json"
    profiles = tmp_path / "profiles"
    bench.main(
        [
            "--alerts", "2000", "--organisations", "200", "--cases", "100",
            "--demo-events", "2000", "--requests", "2", "--results", str(out),
            "--profile", str(profiles),
        ]
    )  # fmt: skip
    report = json.loads(out.read_text())
    assert "load_average_1m" in report["machine"]
    p95 = {r["case"]: r for r in report["results"] if r["metric"] == "p95"}
    measured = {case.split(" (")[0] for case in p95}
    left_out = {page.split(" (")[0].split(",")[0] for page in report["left_out"]}
    # Every console GET route is either measured or said to be left out, with a reason.
    from bastion.core.settings import Settings
    from bastion.store import Store
    from bastion.web import create_app

    store = Store.from_url(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        pages, _ = bench.console_pages(create_app(store, Settings(data_dir=tmp_path)))
    finally:
        store.dispose()
    assert len(pages) > 30
    for page in pages:
        assert f"GET {page}" in measured or page in left_out or f"GET {page}" in left_out, page
    for role in ("national analyst", "member lead", "national administrator"):
        assert f"GET /alerts ({role})" in p95 or role == "national administrator"
    assert "GET /users (national administrator)" in p95
    assert "GET /orgs/{code} (member lead)" in p95
    assert all(r["value"] > 0 and r["cpu_ms"] > 0 for r in p95.values())
    assert all(r["meets_target"] == (r["value"] < 100) for r in p95.values())
    assert (profiles / "GET _alerts (member lead).prof").is_file()
