"""`bastion demo …` and `bastion init --demo` on a throw-away data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import bastion_in
from tests.demo.conftest import BuiltDemo
from typer.testing import CliRunner

from bastion import advisories as adv
from bastion import auth
from bastion.cli import demo as demo_cli
from bastion.cli.main import app
from bastion.core.scope import Scope
from bastion.demo import counts_by_type, generate_federation, scanlab
from bastion.orgs import count_organisations
from bastion.store import Store

runner = CliRunner()


def _count(data_dir: Path) -> int:
    opened = Store.from_url(f"sqlite:///{data_dir / 'bastion.db'}")
    try:
        with opened.session() as session:
            return count_organisations(session)
    finally:
        opened.dispose()


def test_init_demo_loads_the_federation_once(
    built_demo: BuiltDemo, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, data_dir = built_demo.output, built_demo.data_dir
    assert "loaded the demo federation" in first
    # The federation, and the scan lab's members whose loopback hosts the demo scanned.
    expected = len(generate_federation(size="small")) + len(scanlab.ORGANISATIONS)
    assert _count(data_dir) == expected
    assert "scanned 15 lab hosts on 127.0.53.x" in first
    # The demo brings its own vulnerability records: exposures, and a national alert that
    # some members acknowledged and the demo lead's organisation has not.
    assert "national administrator: username demo.admin" in first
    opened = Store.from_url(f"sqlite:///{data_dir / 'bastion.db'}")
    try:
        with opened.session() as session:
            lead_org = auth.get_user(session, "demo.lead").memberships[0][0]
            exposures = adv.list_exposures(session)
            [alert], _ = adv.visible_alerts(session, Scope.everything())
            responses = {r.organisation: r for r in adv.list_responses(session, alert.ref)}
    finally:
        opened.dispose()
    assert {e.vulnerability for e in exposures} >= {"CVE-2021-44228", "CVE-2021-44832"}
    assert alert.status == "published"
    assert responses[lead_org].acknowledged_at is None
    assert any(r.acknowledged_at for r in responses.values())
    assert any(r.acknowledged_at is None for r in responses.values())
    monkeypatch.setattr(demo_cli, "INIT_SIZE", "small")
    monkeypatch.setattr(demo_cli, "DEMO_DAY_EVENTS", 5_000)
    with bastion_in(built_demo.home, monkeypatch) as run:
        second = run("init", "--demo")
    assert second.exit_code == 0, second.output
    assert "not loaded" in second.output
    assert _count(data_dir) == expected


def test_demo_federation_is_idempotent_and_prints_counts(data_dir: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    first = runner.invoke(app, ["demo", "federation", "--size", "small", "--json"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    small = generate_federation(size="small")
    assert report["created"] == len(small)
    assert report["by_type"] == counts_by_type(small)
    again = runner.invoke(app, ["demo", "federation", "--size", "small"])
    assert again.exit_code == 0, again.output
    assert "gp_practice" in again.stdout
    assert f"{len(small)} unchanged" in again.output
    assert _count(data_dir) == len(small)


def test_demo_federation_of_another_seed_says_what_clashes(data_dir: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert runner.invoke(app, ["demo", "federation", "--size", "small"]).exit_code == 0
    clash = runner.invoke(app, ["demo", "federation", "--size", "small", "--seed", "8"])
    assert clash.exit_code != 0
    assert "another federation" in clash.output


def test_demo_traffic_writes_the_day_and_prints_its_manifest(tmp_path: Path) -> None:
    out = tmp_path / "day"
    result = runner.invoke(
        app, ["demo", "traffic", str(out), "--events", "3000", "--size", "small", "--json"]
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.stdout)
    assert manifest["events"] == 3000
    assert (
        json.loads((out / "labels.json").read_text(encoding="utf-8"))["attacks"]
        == (manifest["attacks"])
    )
    assert all((out / f["path"]).is_file() for f in manifest["files"])
    table = runner.invoke(app, ["demo", "traffic", str(out), "-n", "3000", "--size", "small"])
    assert table.exit_code == 0, table.output
    assert "port-scan" in table.stdout
    assert "wrote 3,000 events" in table.output
