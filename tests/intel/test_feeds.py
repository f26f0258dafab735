"""Feeds end to end: STIX bundles, MISP feeds and events, plain lists and CSV, served over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bastion import intel
from bastion.audit import Actor
from bastion.core.errors import ConflictError, InputError
from bastion.core.types import Tlp
from bastion.intel import feeds
from bastion.intel.feeds.stix import pattern_values
from bastion.store import Store

from .conftest import FeedServer

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"  # STIX TLP:GREEN


def _indicator(n: int, pattern: str, **extra: object) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
        "created": "2026-11-01T00:00:00Z",
        "modified": "2026-11-20T00:00:00Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-11-01T00:00:00Z",
        **extra,
    }


def stix_bundle() -> bytes:
    malware = {
        "type": "malware",
        "spec_version": "2.1",
        "id": "malware--00000000-0000-4000-8000-000000000001",
        "created": "2026-11-01T00:00:00Z",
        "modified": "2026-11-01T00:00:00Z",
        "name": "QakBot",
        "is_family": True,
    }
    objects = [
        malware,
        _indicator(
            1, "[ipv4-addr:value = '198.51.100.7']", confidence=90, object_marking_refs=[GREEN]
        ),
        _indicator(
            2, "[domain-name:value = 'Evil.Example.'] OR [url:value = 'http://evil.example/x']"
        ),
        _indicator(3, "[file:hashes.'SHA-256' = '" + "a" * 64 + "']"),
        _indicator(4, "[ipv4-addr:value = '203.0.113.0/24']"),
        _indicator(5, "[network-traffic:extensions.'x-tls'.ja3 = '" + "b" * 32 + "']"),
        _indicator(6, "[ipv4-addr:value = '1.2.3.4' AND"),  # invalid pattern
        _indicator(7, "[ipv4-addr:value = '10.0.0.1'] AND [domain-name:value = 'a.example']"),
        {"type": "indicator", "id": "indicator--broken"},  # malformed object
        {
            "type": "relationship",
            "spec_version": "2.1",
            "id": "relationship--00000000-0000-4000-8000-000000000001",
            "created": "2026-11-01T00:00:00Z",
            "modified": "2026-11-01T00:00:00Z",
            "relationship_type": "indicates",
            "source_ref": "indicator--00000000-0000-4000-8000-000000000001",
            "target_ref": "malware--00000000-0000-4000-8000-000000000001",
        },
    ]
    bundle = {
        "type": "bundle",
        "id": "bundle--00000000-0000-4000-8000-000000000001",
        "objects": objects,
    }
    return json.dumps(bundle).encode()


def misp_event(uuid: str, info: str, attributes: list[dict[str, object]]) -> bytes:
    event = {
        "Event": {
            "uuid": uuid,
            "info": info,
            "threat_level_id": "1",
            "Tag": [{"name": "tlp:green"}, {"name": 'misp-galaxy:threat-actor="APT-X"'}],
            "Attribute": attributes,
        }
    }
    return json.dumps(event).encode()


def test_stix_pattern_or_gives_each_value() -> None:
    assert pattern_values("[domain-name:value = 'a.example'] OR [url:value = 'http://b/']") == [
        (intel.IndicatorType.DOMAIN, "a.example"),
        (intel.IndicatorType.URL, "http://b/"),
    ]
    with pytest.raises(InputError, match="not one value"):
        pattern_values("[ipv4-addr:value != '1.2.3.4']")


def test_stix_feed_loads_types_tlp_threat_and_reports_bad_objects(
    store: Store, feed_server: FeedServer
) -> None:
    feed_server.files["/bundle.json"] = stix_bundle()
    with store.session() as session:
        feeds.add_feed(
            session,
            "cti",
            "stix",
            feed_server.url("/bundle.json"),
            options={"confidence": 60, "action": "block"},
            now=NOW,
            actor=Actor.cli("test"),
        )
        pull = feeds.pull_feed(session, "cti", now=NOW, actor=Actor.cli("test"))
    assert pull.status == "partial"
    assert pull.added == 6
    assert pull.skipped == 3
    assert any("pattern" in p for p in pull.problems)
    with store.session() as session:
        [ip] = intel.get_indicator(session, "ipv4:198.51.100.7")
        [domain] = intel.get_indicator(session, "domain:evil.example")
        [cidr] = intel.get_indicator(session, "cidr:203.0.113.0/24")
        [ja3] = intel.get_indicator(session, "ja3:" + "b" * 32)
        [sha] = intel.get_indicator(session, "sha256:" + "a" * 64)
        intel.get_indicator(session, "url:http://evil.example/x")
    assert (ip.source, ip.tlp, ip.confidence, ip.threat, ip.action) == (
        "cti",
        Tlp.GREEN,
        90,
        "QakBot",
        intel.Action.BLOCK,
    )
    assert (domain.tlp, domain.confidence) == (Tlp.AMBER, 60)  # unmarked: the feed's defaults
    assert cidr.type is intel.IndicatorType.CIDR
    assert ja3.type is intel.IndicatorType.JA3
    assert sha.first_seen == datetime(2026, 11, 1, tzinfo=UTC)


def test_conditional_get_gives_not_modified_and_keeps_everything(
    store: Store, feed_server: FeedServer
) -> None:
    feed_server.files["/drop.txt"] = (
        b"; Spamhaus DROP style\n192.0.2.0/24 ; SBL1\n198.51.100.0/24 ; SBL2\n"
    )
    with store.session() as session:
        feeds.add_feed(
            session, "drop", "plain", feed_server.url("/drop.txt"), now=NOW, actor=Actor.cli("test")
        )
        first = feeds.pull_feed(session, "drop", now=NOW, actor=Actor.cli("test"))
    with store.session() as session:
        second = feeds.pull_feed(
            session, "drop", now=NOW + timedelta(hours=1), actor=Actor.cli("test")
        )
    assert (first.status, first.added) == ("ok", 2)
    assert second.status == "not_modified"
    assert feed_server.requests[-1][1].get("If-None-Match", "").startswith('"')
    assert feed_server.requests[-1][1].get("If-Modified-Since") == "Mon, 30 Nov 2026 10:00:00 GMT"
    with store.session() as session:
        assert len(intel.active_indicators(session, NOW + timedelta(hours=2))) == 2


def test_snapshot_pull_counts_added_changed_expired_with_reasons(
    store: Store, feed_server: FeedServer
) -> None:
    feed_server.files["/ips.txt"] = b"192.0.2.1\n192.0.2.2\n"
    with store.session() as session:
        feeds.add_feed(
            session,
            "ips",
            "plain",
            feed_server.url("/ips.txt"),
            options={"tlp": "clear"},
            now=NOW,
            actor=Actor.cli("test"),
        )
        feeds.pull_feed(session, "ips", now=NOW, actor=Actor.cli("test"))
    feed_server.files["/ips.txt"] = b"192.0.2.2\n192.0.2.3\n"
    later = NOW + timedelta(hours=2)
    with store.session() as session:
        pull = feeds.pull_feed(session, "ips", now=later, actor=Actor.cli("test"))
    assert (pull.status, pull.added, pull.unchanged, pull.expired) == ("ok", 1, 1, 1)
    with store.session() as session:
        active = {i.value for i in intel.active_indicators(session, later + timedelta(seconds=1))}
        changes = intel.indicator_changes(session, intel.IndicatorType.IPV4, "192.0.2.1")
        history = feeds.feed_history(session, "ips")
    assert active == {"192.0.2.2", "192.0.2.3"}
    assert [c.change for c in changes] == ["created", "expired"]
    assert "no longer listed by feed ips" in changes[-1].reason
    assert [p.status for p in history] == ["ok", "ok"]


def test_failed_pull_is_recorded_and_loses_nothing(store: Store, feed_server: FeedServer) -> None:
    feed_server.files["/list.txt"] = b"evil.example\n"
    with store.session() as session:
        feeds.add_feed(
            session,
            "list",
            "plain",
            feed_server.url("/list.txt"),
            options={"timeout": 0.5},
            now=NOW,
            actor=Actor.cli("test"),
        )
        feeds.pull_feed(session, "list", now=NOW, actor=Actor.cli("test"))
    feed_server.broken.add("/list.txt")
    with store.session() as session:
        broken = feeds.pull_feed(
            session, "list", now=NOW + timedelta(hours=1), actor=Actor.cli("test")
        )
    feed_server.broken.clear()
    feed_server.slow.add("/list.txt")
    with store.session() as session:
        slow = feeds.pull_feed(
            session, "list", now=NOW + timedelta(hours=2), actor=Actor.cli("test")
        )
    assert (broken.status, broken.http_status) == ("failed", 500)
    assert "HTTP 500" in broken.reason
    assert slow.status == "failed"
    assert "did not answer" in slow.reason
    with store.session() as session:
        assert [i.value for i in intel.active_indicators(session, NOW + timedelta(hours=3))] == [
            "evil.example"
        ]


def test_garbage_stix_is_a_failed_pull(store: Store, feed_server: FeedServer) -> None:
    feed_server.files["/bundle.json"] = b"<html>not a feed</html>"
    with store.session() as session:
        feeds.add_feed(
            session,
            "cti",
            "stix",
            feed_server.url("/bundle.json"),
            now=NOW,
            actor=Actor.cli("test"),
        )
        pull = feeds.pull_feed(session, "cti", now=NOW, actor=Actor.cli("test"))
    assert pull.status == "failed"
    assert "not valid JSON" in pull.reason


def test_misp_feed_manifest_and_events(store: Store, feed_server: FeedServer) -> None:
    one, two = "5f0b7c2e-0000-4000-8000-000000000001", "5f0b7c2e-0000-4000-8000-000000000002"
    feed_server.files["/misp/manifest.json"] = json.dumps(
        {one: {"info": "Phishing wave", "timestamp": "1764000000"}, two: {"info": "C2"}}
    ).encode()
    feed_server.files[f"/misp/{one}.json"] = misp_event(one, "Phishing wave", [
        {"type": "domain", "value": "login-nhs.example", "to_ids": True, "timestamp": "1764000000"},
        {"type": "url", "value": "https://login-nhs.example/a", "to_ids": True},
        {"type": "comment", "value": "not an indicator", "to_ids": False},
        {"type": "ip-dst|port", "value": "300.1.1.1|443", "to_ids": True},
    ])  # fmt: skip
    feed_server.files[f"/misp/{two}.json"] = misp_event(two, "C2", [
        {"type": "ip-dst", "value": "203.0.113.9", "to_ids": True,
         "Tag": [{"name": "tlp:red"}]},
        {"type": "filename|sha256", "value": "x.exe|" + "c" * 64, "to_ids": True},
    ])  # fmt: skip
    with store.session() as session:
        feeds.add_feed(
            session,
            "misp",
            "misp-feed",
            feed_server.url("/misp/"),
            now=NOW,
            actor=Actor.cli("test"),
        )
        pull = feeds.pull_feed(session, "misp", now=NOW, actor=Actor.cli("test"))
    assert (pull.status, pull.added, pull.skipped) == ("partial", 4, 1)
    with store.session() as session:
        [domain] = intel.get_indicator(session, "domain:login-nhs.example")
        [ip] = intel.get_indicator(session, "ipv4:203.0.113.9")
        intel.get_indicator(session, "sha256:" + "c" * 64)
    assert (domain.tlp, domain.threat, domain.severity.value, domain.source) == (
        Tlp.GREEN,
        "Phishing wave",
        "high",
        "misp",
    )
    assert domain.last_seen == datetime.fromtimestamp(1764000000, UTC)
    assert ip.tlp is Tlp.RED  # the attribute's own tag wins over the event's


def test_csv_feed_with_chosen_column_abuse_ch_style(store: Store, feed_server: FeedServer) -> None:
    feed_server.files["/feodo.csv"] = (
        b"################\n# Feodo Tracker style\n"
        b"# first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware\n"
        b'"2026-11-01 10:00:00","192.0.2.50","443","online","2026-11-30","QakBot"\n'
        b'"2026-11-02 10:00:00","999.1.1.1","443","online","2026-11-30","Emotet"\n'
        b'"2026-11-03 10:00:00","198.51.100.60","8080","offline","2026-11-20","Emotet"\n'
    )
    with store.session() as session:
        feeds.add_feed(
            session,
            "feodo",
            "csv",
            feed_server.url("/feodo.csv"),
            options={"column": "dst_ip", "threat_column": "malware"},
            now=NOW,
            actor=Actor.cli("test"),
        )
        pull = feeds.pull_feed(session, "feodo", now=NOW, actor=Actor.cli("test"))
    assert (pull.status, pull.added, pull.skipped) == ("partial", 2, 1)
    assert "line 5" in pull.problems[0]
    with store.session() as session:
        [ip] = intel.get_indicator(session, "ipv4:192.0.2.50")
    assert ip.threat == "QakBot"


def test_feed_settings_are_checked(store: Store) -> None:
    with store.session() as session:
        with pytest.raises(InputError, match="unknown feed type"):
            feeds.add_feed(
                session, "x", "rss", "http://127.0.0.1/", now=NOW, actor=Actor.cli("test")
            )
        with pytest.raises(InputError, match="column"):
            feeds.add_feed(
                session, "x", "csv", "http://127.0.0.1/", now=NOW, actor=Actor.cli("test")
            )
        with pytest.raises(InputError, match="unknown feed option"):
            feeds.add_feed(
                session,
                "x",
                "plain",
                "http://127.0.0.1/",
                options={"colour": 1},
                now=NOW,
                actor=Actor.cli("test"),
            )
        feeds.add_feed(session, "x", "plain", "http://127.0.0.1/", now=NOW, actor=Actor.cli("test"))
        with pytest.raises(ConflictError):
            feeds.add_feed(
                session, "x", "plain", "http://127.0.0.1/", now=NOW, actor=Actor.cli("test")
            )


def test_due_feeds_follow_their_interval(store: Store, feed_server: FeedServer) -> None:
    feed_server.files["/a.txt"] = b"192.0.2.1\n"
    with store.session() as session:
        feeds.add_feed(
            session,
            "a",
            "plain",
            feed_server.url("/a.txt"),
            interval=timedelta(hours=6),
            now=NOW,
            actor=Actor.cli("test"),
        )
        assert [p.feed for p in feeds.pull_due(session, now=NOW, actor=Actor.cli("test"))] == ["a"]
        assert feeds.pull_due(session, now=NOW + timedelta(hours=5), actor=Actor.cli("test")) == []
        assert [
            p.feed
            for p in feeds.pull_due(session, now=NOW + timedelta(hours=6), actor=Actor.cli("test"))
        ] == ["a"]


def test_detect_file_format(tmp_path: Path) -> None:
    cases = {
        "b.json": stix_bundle(),
        "e.json": misp_event("u", "x", []),
        "l.txt": b"# list\n192.0.2.1\nevil.example\n",
        "i.csv": b"type,value\nipv4,192.0.2.1\n",
    }
    found = {}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        found[name] = feeds.detect_file_format(tmp_path / name, content)
    assert found == {
        "b.json": "stix",
        "e.json": "misp-event",
        "l.txt": "plain",
        "i.csv": "bastion-csv",
    }
