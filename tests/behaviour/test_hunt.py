"""Hunting archived days: results, alerts with evidence, the allow-list and the feedback loop."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from tests.behaviour.helpers import DAY, archive, beacon_times, connections, day_start, lookups

from bastion import behaviour
from bastion.alerts import list_alerts
from bastion.audit import Actor
from bastion.core.errors import InputError, NotFoundError, PermissionDenied
from bastion.core.scope import Scope
from bastion.store import Store

ACTOR = Actor.cli("test")
EVERYTHING = Scope.everything()


def _browsing(host: str, remote: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (day_start() + rng.uniform(9, 17, 300) * 3.6e9).astype(np.int64)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    letters = np.random.default_rng(5).choice(list("abcdefghijklmnopqrstuvwxyz234567"), (300, 40))
    tunnel = [f"{''.join(row)}.relay.example" for row in letters]
    return archive(
        tmp_path / "archive",
        connections(beacon_times(300, 280), "10.0.0.5", "203.0.113.90"),
        connections(beacon_times(60, 1400, jitter=0.02), "10.0.0.6", "198.18.200.10"),
        connections(_browsing("10.0.0.7", "198.18.7.7", 1), "10.0.0.7", "198.18.7.7",
                    sent=np.random.default_rng(2).lognormal(7, 1.5, 300).astype(np.int64)),
        connections(beacon_times(300, 280, seed=3), "10.1.0.9", "203.0.113.90", org="RBB"),
        lookups(np.sort(day_start() + np.arange(300) * 10_000_000), "10.0.0.8", tunnel),
    )  # fmt: skip


def test_hunt_alerts_beacons_and_tunnels_with_evidence_and_not_browsing(
    store: Store, root: Path
) -> None:
    with store.session() as session:
        report = behaviour.hunt_days(session, root, [DAY], actor=ACTOR)
    assert report.alerting == 4  # two beacons to one address, the agent, the tunnel
    with store.session() as session:
        found, total = behaviour.list_results(session, EVERYTHING, days=[DAY])
        alerts = [a for a in list_alerts(session)[0] if a.kind == "behaviour"]
    pairs = {(r.analytic, r.org, r.host, r.dest) for r in found}
    assert ("beacon", "RAA", "10.0.0.5", "203.0.113.90") in pairs
    assert ("dns-tunnel", "RAA", "10.0.0.8", "relay.example") in pairs
    assert not any(r.host == "10.0.0.7" for r in found)  # people browsing
    # federation view: the address beaconing from two members ranks first, at both
    assert [(r.orgs, r.dest) for r in found[:2]] == [(2, "203.0.113.90")] * 2
    beacon = next(r for r in found if r.host == "10.0.0.5")
    assert beacon.connections == 280
    assert beacon.parts["interval_mad"] > 0.5
    assert sum(beacon.evidence["intervals"]["counts"]) == 279
    assert beacon.evidence["samples"][0]["raw"].startswith("conn 10.0.0.5 -> 203.0.113.90")
    assert "\"host.ip\" = '10.0.0.5'" in beacon.evidence["hunt"]
    alert = next(a for a in alerts if a.host == "10.0.0.5")
    assert alert.count == 280
    assert alert.observable == "203.0.113.90"
    assert alert.severity.value == "high"  # seen at two organisations
    assert total == len(found) == 4


def test_allow_list_silences_known_good_and_benign_feeds_it(store: Store, root: Path) -> None:
    with store.session() as session:
        behaviour.add_allowed(
            session, EVERYTHING, org=None, kind="address", value="198.18.200.0/24",
            reason="monitoring", expires_on=date.today() + timedelta(days=1), actor=ACTOR,
        )  # fmt: skip
        report = behaviour.hunt_days(session, root, [DAY], actor=ACTOR)
        assert report.allowed == 1
        assert report.alerting == 3
        tunnel = next(
            r for r in behaviour.list_results(session, EVERYTHING, days=[DAY])[0]
            if r.analytic == "dns-tunnel"
        )  # fmt: skip
        marked, entry = behaviour.mark_benign(
            session, Scope.of(["RAA"]), tunnel.id, reason="our DNS-based AV",
            expires_on=date.today() + timedelta(days=30), national=False, actor=ACTOR,
        )  # fmt: skip
        assert marked.status == "benign"
        assert (entry.org, entry.kind, entry.value) == ("RAA", "domain", "relay.example")
        again = behaviour.hunt_days(session, root, [DAY], actor=ACTOR)
    assert again.allowed == 2
    assert again.alerting == 2


def test_allow_list_tenancy_and_bad_entries(store: Store) -> None:
    member = Scope.of(["RAA"])
    later = date.today() + timedelta(days=5)
    with store.session() as session:
        mine = behaviour.add_allowed(
            session, member, org="RAA", kind="domain", value="Vendor.TEST.", reason="updates",
            expires_on=later, actor=ACTOR,
        )  # fmt: skip
        assert mine.value == "vendor.test"
        with pytest.raises(PermissionDenied):
            behaviour.add_allowed(session, member, org=None, kind="domain", value="x.test",
                                  reason="r", expires_on=later, actor=ACTOR)  # fmt: skip
        with pytest.raises(PermissionDenied):
            behaviour.add_allowed(session, member, org="RBB", kind="domain", value="x.test",
                                  reason="r", expires_on=later, actor=ACTOR)  # fmt: skip
        with pytest.raises(InputError, match="not an IP address"):
            behaviour.add_allowed(session, EVERYTHING, org=None, kind="address", value="nope",
                                  reason="r", expires_on=later, actor=ACTOR)  # fmt: skip
        national = behaviour.add_allowed(
            session, EVERYTHING, org=None, kind="fingerprint", value="ja3:abc", reason="r",
            expires_on=later, actor=ACTOR,
        )  # fmt: skip
        assert [e.id for e in behaviour.list_allowed(session, member)] == [mine.id]
        with pytest.raises(NotFoundError):
            behaviour.remove_allowed(session, member, national.id, actor=ACTOR)
        with pytest.raises(NotFoundError):
            behaviour.remove_allowed(session, Scope.of(["RBB"]), mine.id, actor=ACTOR)
        behaviour.remove_allowed(session, member, mine.id, actor=ACTOR)
        assert behaviour.list_allowed(session, member) == []


def test_scheduled_run_hunts_only_new_days(store: Store, root: Path) -> None:
    later = DAY + timedelta(days=1)
    archive(root, connections(beacon_times(300, 10), "10.0.0.5", "203.0.113.90"), batch="b0")
    with store.session() as session:
        first = behaviour.days_to_hunt(session, root, today=later + timedelta(days=1))
        assert first == [DAY]
        behaviour.hunt_days(session, root, first, actor=ACTOR)
        assert behaviour.days_to_hunt(session, root, today=later + timedelta(days=1)) == []
        assert behaviour.hunted_days(session) == [DAY]


def test_lookback_days_make_fingerprints_new_or_known_and_a_spread_one_a_campaign(
    tmp_path: Path,
) -> None:
    before, day = DAY - timedelta(days=1), DAY
    stamps = beacon_times(3600, 3)
    old = [connections(stamps - 86_400_000_000, f"10.0.0.{i}", "198.18.1.1", ja3="aa" * 16)
           for i in range(5)]  # fmt: skip
    campaign = [connections(stamps, "10.0.0.9", "198.18.1.2", org=org, ja3="cc" * 16)
                for org in ("RAA", "RBB", "RCC")]  # fmt: skip
    root = archive(
        tmp_path / "archive",
        *old,
        connections(stamps, "10.0.0.1", "198.18.1.1", ja3="aa" * 16),  # seen the day before
        *campaign,
        lookups(stamps, "10.0.0.1", ["www.news.test"] * 3),
    )
    assert behaviour.analyse_day(root, before, behaviour.DEFAULT_CONFIG).height == 0
    found = behaviour.analyse_day(root, day, behaviour.DEFAULT_CONFIG)
    prints = found.filter(found["analytic"] == "rare-fingerprint")
    assert set(prints["dest"]) == {"ja3:" + "cc" * 16}  # the known one is not new
    assert prints["orgs"].to_list() == [3, 3, 3]  # seen at three members: ranked first
    assert prints["parts"][0] == '{"new":1.0,"rarity":0.0,"spread":1.0}'
