"""The labelled demo day: every unlisted beacon and tunnel alerts, the benign periodic traffic not."""

from __future__ import annotations

from pathlib import Path

from bastion import behaviour
from bastion.audit import Actor
from bastion.core.scope import Scope
from bastion.core.settings import Settings
from bastion.demo import generate_federation, load_federation
from bastion.demo.behaviour_hunt import hunt_demo_day
from bastion.demo.day import generate_and_ingest_day
from bastion.demo.traffic import DEFAULT_DAY
from bastion.demo.world import C2_IPS, MALICIOUS_JA3, PHISHING_DOMAINS
from bastion.store import Store

ORGS = generate_federation(size="small")


def test_demo_day_behaviour_finds_every_planted_one_and_nothing_benign(
    sqlite_store: Store, tmp_path: Path
) -> None:
    actor = Actor.cli("test")
    settings = Settings(data_dir=tmp_path / "data")
    with sqlite_store.session() as session:
        load_federation(session, ORGS, actor=actor)
    manifest, _ = generate_and_ingest_day(
        sqlite_store, settings, ORGS, tmp_path / "day", events=20_000, day=DEFAULT_DAY, actor=actor
    )
    planted = [a for a in manifest.attacks if a.kind in ("beacon", "dns-tunnel")]
    listed = {*C2_IPS, MALICIOUS_JA3, *PHISHING_DOMAINS}
    assert len(planted) == 4
    assert all(a.indicator is None and not set(a.external_ips) & listed for a in planted)
    with sqlite_store.session() as session:
        score = hunt_demo_day(session, settings.archive_dir, DEFAULT_DAY, manifest.attacks, actor)
        results, _ = behaviour.list_results(session, Scope.everything(), status="allowed")
    assert (score.found, score.planted) == (4, 4)
    assert score.benign_alerted == 0
    assert score.precision == 1.0
    benign_hosts = {a.host_ip for a in manifest.attacks if a.kind == "benign-periodic"}
    assert {r.host for r in results} == benign_hosts  # scored, but the allow-list covers them
