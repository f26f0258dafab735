"""Sightings recorded by the boundary, their STIX export, and retro-hunts over the archive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import stix2

from bastion import intel, orgs
from bastion.alerts import list_alerts
from bastion.audit import Actor
from bastion.boundary.pipeline import Pipeline
from bastion.boundary.retrohunt import hunt_matches, retrohunt
from bastion.core.settings import Settings
from bastion.store import Store

# Squid lines from 2 days before "now"; the client address says which trust it is.
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


def _squid(seconds: int, client: str, url: str, server: str = "198.18.0.1") -> str:
    stamp = int(BASE.timestamp()) + seconds
    return f"{stamp}.000 10 {client} TCP_MISS/200 100 GET {url} - HIER_DIRECT/{server} text/html\n"


def _federation(store: Store) -> None:
    with store.session() as session:
        orgs.save_organisation(
            session,
            orgs.Organisation("RAL", "Royal Free", orgs.OrgType.TRUST, networks=("11.0.1.0/24",)),
            actor=Actor.cli("test"),
        )
        orgs.save_organisation(
            session,
            orgs.Organisation("RJ1", "Guy's", orgs.OrgType.TRUST, networks=("11.0.2.0/24",)),
            actor=Actor.cli("test"),
        )


def _ingest(store: Store, tmp_path: Path, lines: list[str], name: str) -> Settings:
    settings = Settings(data_dir=tmp_path / "data")
    log = tmp_path / name
    log.write_text("".join(lines))
    pipeline = Pipeline.open(store, settings)
    pipeline.ingest_file(log, "squid")
    pipeline.compact()
    return settings


def test_boundary_matches_record_sightings(sqlite_store: Store, tmp_path: Path) -> None:
    _federation(sqlite_store)
    with sqlite_store.session() as session:
        intel.save_indicators(
            session,
            [intel.Indicator(type="domain", value="c2.example", source="cti")],
            actor=Actor.cli("test"),
        )  # type: ignore[arg-type]
    lines = [
        _squid(0, "11.0.1.5", "http://c2.example/a"),
        _squid(60, "11.0.1.6", "http://beacon.c2.example/b"),
        _squid(120, "11.0.2.9", "http://c2.example/c"),
        _squid(180, "11.0.2.9", "http://fine.example/"),
    ]
    _ingest(sqlite_store, tmp_path, lines, "day1.log")
    with sqlite_store.session() as session:
        found = intel.list_sightings(session, "domain:c2.example")
        hit = intel.organisations_hit(session, since=BASE - timedelta(days=1))
    assert [(s.org, s.count) for s in found] == [("RAL", 2), ("RJ1", 1)]
    assert found[0].first_seen == BASE
    assert found[0].last_seen == BASE + timedelta(seconds=60)
    assert hit == {"domain:c2.example": 2}


def test_record_sightings_upserts_counts_and_first_last(store: Store) -> None:
    t0 = datetime(2026, 11, 30, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "indicator.id": ["ipv4:192.0.2.1", "ipv4:192.0.2.1", "ipv4:192.0.2.1"],
            "organization.id": ["RAL", "RAL", "RJ1"],
            "@timestamp": [t0, t0 + timedelta(hours=1), t0],
        }
    )
    with store.session() as session:
        assert intel.record_sightings(session, frame) == 2
        intel.record_sightings(
            session, frame.with_columns(pl.col("@timestamp") - timedelta(days=1))
        )
        found = intel.list_sightings(session)
    assert [(s.org, s.count, s.first_seen, s.last_seen) for s in found] == [
        ("RAL", 4, t0 - timedelta(days=1), t0 + timedelta(hours=1)),
        ("RJ1", 2, t0 - timedelta(days=1), t0),
    ]
    bundle = stix2.parse(intel.sightings_bundle(found), allow_custom=False)
    sightings = [o for o in bundle.objects if o.type == "sighting"]
    assert [s.count for s in sightings] == [4, 2]
    assert sightings[0].sighting_of_ref.startswith("indicator--")


def test_retrohunt_raises_one_retrospective_alert_per_org_and_indicator(
    sqlite_store: Store, tmp_path: Path
) -> None:
    _federation(sqlite_store)
    lines = [
        _squid(0, "11.0.1.5", "http://old-c2.example/a"),
        _squid(30, "11.0.1.7", "http://x.old-c2.example/b"),  # another host, a subdomain
        _squid(7200, "11.0.1.5", "http://old-c2.example/c"),  # hours later
        _squid(60, "11.0.2.9", "http://fine.example/"),
        _squid(90, "11.0.2.9", "http://files.example/x.bin", "198.51.100.77"),  # in a listed CIDR
        _squid(120, "11.0.2.4", "http://live.example/"),
    ]
    with sqlite_store.session() as session:  # live.example was listed before the traffic
        intel.save_indicators(
            session,
            [intel.Indicator(type="domain", value="live.example", source="cti")],
            actor=Actor.cli("test"),
        )  # type: ignore[arg-type]
    settings = _ingest(sqlite_store, tmp_path, lines, "past.log")
    with sqlite_store.session() as session:
        retrohunt(session, settings.archive_dir, now=datetime.now(UTC))  # baseline run
        live_alerts = list_alerts(session)[1]
    with sqlite_store.session() as session:
        intel.save_indicators(session, [
            intel.Indicator(type="domain", value="old-c2.example", source="misp", threat="OldRAT"),  # type: ignore[arg-type]
            intel.Indicator(type="cidr", value="198.51.100.0/24", source="misp"),  # type: ignore[arg-type]
            intel.Indicator(type="domain", value="never-seen.example", source="misp"),  # type: ignore[arg-type]
        ], actor=Actor.cli("test"))  # fmt: skip
    later = datetime.now(UTC) + timedelta(seconds=1)
    with sqlite_store.session() as session:
        report = retrohunt(session, settings.archive_dir, now=later)
    with sqlite_store.session() as session:
        alerts, total = list_alerts(session)
    retro = sorted((a.org, a.key, a.count, a.retrospective) for a in alerts if a.retrospective)
    assert report.indicators == 3
    assert report.alerts == 2
    assert retro == [
        ("RAL", "domain:old-c2.example", 3, True),
        ("RJ1", "cidr:198.51.100.0/24", 1, True),
    ]
    assert total == live_alerts + 2
    # The evidence is the archived events themselves, raw lines included, oldest first.
    c2 = next(a for a in alerts if a.key == "domain:old-c2.example")
    assert [e.raw.split()[6] for e in c2.evidence] == [
        "http://old-c2.example/a", "http://x.old-c2.example/b", "http://old-c2.example/c"
    ]  # fmt: skip
    # A second run, or a run over everything, raises nothing new.
    with sqlite_store.session() as session:
        again = retrohunt(session, settings.archive_dir, now=later, everything=True)
        assert list_alerts(session)[1] == total
    assert again.alerts == 0
    assert again.already_alerted == 3  # the two retrospective pairs and the live one


def test_hunt_finds_every_kind_the_index_would(tmp_path: Path) -> None:
    """The SQL narrowing never loses a match: networks of any width, parents, URLs, patterns."""
    from bastion.boundary.archive import write_batch

    when = datetime.now(UTC) - timedelta(days=1)
    events = pl.DataFrame(
        {
            "@timestamp": [when] * 8,
            "organization.id": ["RAL"] * 8,
            "destination.ip": ["172.20.5.9", "100.64.1.2", "2001:db8:9::5", "192.0.2.200",
                               "8.8.8.8", "8.8.4.4", "9.9.9.9", "1.1.1.1"],
            "url.domain": ["x.y.evil.example", None, None, "shop.example", None, None, None, "ok.example"],
            "url.full": [None, None, None, "http://shop.example/pay/now?x=1", None, None,
                         "http://cdn.example/drop/mal.js", "http://ok.example/"],
            "tls.client.ja3": [None] * 7 + ["E7D705A3286E19EA42F587B344EE6865"],
        }
    )  # fmt: skip
    write_batch(events, tmp_path / "archive", "b1")
    listed = [
        ("cidr", "172.16.0.0/12"), ("cidr", "100.64.0.0/10"), ("cidr", "2001:db8::/32"),
        ("domain", "evil.example"), ("url", "http://SHOP.example:80/pay/now?x=1"),
        ("url_pattern", "*/drop/*.js"), ("cidr", "8.0.0.0/7"), ("ja3", "e7d705a3286e19ea42f587b344ee6865"),
        ("ipv4", "203.0.113.1"),
    ]  # fmt: skip
    frame = intel.indicator_frame(intel.Indicator(type=t, value=v, source="s") for t, v in listed)  # type: ignore[arg-type]
    expected = intel.MatchIndex.from_frame(frame).match(events)
    found, matches, _ = hunt_matches(tmp_path / "archive", frame, now=datetime.now(UTC))
    assert found.height == 8  # every event hits something here, 8.8.4.4 through 8.0.0.0/7
    assert sorted(matches["indicator.id"].to_list()) == sorted(expected["indicator.id"].to_list())
    assert len(set(expected["indicator.id"].to_list())) == 8
