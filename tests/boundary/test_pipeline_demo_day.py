"""The whole pipeline on a labelled demo day: every planted attack alerts, benign traffic does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.alerts import Alert, list_alerts
from bastion.audit import Actor
from bastion.boundary.hunting import hunt
from bastion.boundary.source_stats import SourceStats
from bastion.core.settings import Settings
from bastion.demo import TrafficManifest, generate_federation, load_federation
from bastion.demo.beaconing import BENIGN
from bastion.demo.behaviour_hunt import BEHAVIOUR_KINDS
from bastion.demo.day import generate_and_ingest_day, ingest_day
from bastion.demo.traffic import DEFAULT_DAY
from bastion.store import Store

ORGS = generate_federation(size="small")


@pytest.fixture
def ingested(store: Store, tmp_path: Path) -> tuple[Settings, TrafficManifest, list[SourceStats]]:
    settings = Settings(data_dir=tmp_path / "data")
    with store.session() as session:
        load_federation(session, ORGS, actor=Actor.cli("test"))
    manifest, stats = generate_and_ingest_day(
        store,
        settings,
        ORGS,
        tmp_path / "day",
        events=6_000,
        day=DEFAULT_DAY,
        actor=Actor.cli("test"),
    )
    return settings, manifest, stats


def _alerts(store: Store) -> list[Alert]:
    with store.session() as session:
        return list_alerts(session)[0]


def test_every_planted_attack_alerts_its_organisation_and_nothing_else_does(
    store: Store, ingested: tuple[Settings, TrafficManifest, list[SourceStats]]
) -> None:
    _, manifest, stats = ingested
    assert all(s.rejects == 0 for s in stats), [s.reject_reasons for s in stats]
    alerts = _alerts(store)
    # Beacons and the DNS tunnel are on no list: behavioural hunting finds them (tests/behaviour).
    listed = [a for a in manifest.attacks if a.kind not in (*BEHAVIOUR_KINDS, BENIGN)]
    for attack in listed:
        mine = [a for a in alerts if a.org == attack.organisation]
        if attack.format != "nginx":  # an access log names no server address
            mine = [a for a in mine if a.host == attack.host_ip]
        assert mine, f"no alert for {attack.kind} at {attack.organisation} ({attack.description})"
        expected = "blocked" if attack.action == "blocked" else "live"
        assert expected in {a.verdict for a in mine}, f"{attack.kind}: {[a.verdict for a in mine]}"
        if attack.indicator:
            assert any(a.indicator_value == attack.indicator for a in mine), attack.kind
    planted = {(a.organisation, a.host_ip) for a in listed}
    web_owner = {a.organisation for a in manifest.attacks if a.format == "nginx"}
    for alert in alerts:
        assert (alert.org, alert.host) in planted or (
            alert.org in web_owner and alert.host is None
        ), f"alert on benign traffic: {alert.title} at {alert.org} {alert.host}"


def test_ingesting_the_day_again_doubles_nothing(
    store: Store, ingested: tuple[Settings, TrafficManifest, list[SourceStats]]
) -> None:
    settings, manifest, first = ingested
    before = [(a.id, a.count) for a in _alerts(store)]
    events = hunt(settings.archive_dir, "SELECT count(*) AS n FROM events").item()
    assert events == sum(s.events for s in first) == sum(f.events for f in manifest.files)
    again = ingest_day(store, settings, manifest, actor=Actor.cli("test"))
    assert {s.status for s in again} == {"already ingested"}
    assert [(a.id, a.count) for a in _alerts(store)] == before
    assert hunt(settings.archive_dir, "SELECT count(*) AS n FROM events").item() == events
