"""A TAXII 2.1 collection on a real medallion server (the OASIS reference), pulled end to end."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from medallion import register_blueprints, set_config
from taxii2client.v21 import Collection
from werkzeug.serving import make_server

from bastion import intel
from bastion.audit import Actor
from bastion.core.types import Tlp
from bastion.intel import feeds
from bastion.store import Store

from .test_feeds import GREEN, _indicator

COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MEDIA = "application/stix+json;version=2.1"


@pytest.fixture
def medallion(tmp_path: Path) -> Iterator[str]:
    """Serve a medallion TAXII 2.1 server (memory backend) on 127.0.0.1; yield the collection URL."""
    data = {
        "/discovery": {"title": "test", "api_roots": []},
        "api1": {
            "information": {"title": "API 1", "versions": ["application/taxii+json;version=2.1"],
                            "max_content_length": 10_000_000},
            "status": [],
            "collections": [
                {"id": COLLECTION, "title": "NHS indicators", "can_read": True, "can_write": True,
                 "media_types": [MEDIA], "objects": [], "manifest": []}
            ],
        },
    }  # fmt: skip
    path = tmp_path / "taxii.json"
    path.write_text(json.dumps(data))
    app = Flask("medallion-under-test")
    config = {
        "users": {"analyst": "secret"},
        "taxii": {"max_page_size": 2},  # small pages: pagination is exercised
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                    "filename": str(path)},
    }  # fmt: skip
    for name in ("users", "taxii", "backend"):
        set_config(app, name, config)
    register_blueprints(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api1/collections/{COLLECTION}/"
    server.shutdown()
    thread.join(5)


def _publish(url: str, objects: list[dict[str, object]]) -> None:
    collection = Collection(url, user="analyst", password="secret")
    bundle = {
        "type": "bundle",
        "id": "bundle--00000000-0000-4000-8000-0000000000aa",
        "objects": objects,
    }
    collection.add_objects(json.dumps(bundle))


def test_taxii_collection_loads_and_pulls_only_what_is_new(store: Store, medallion: str) -> None:
    _publish(medallion, [
        _indicator(11, "[ipv4-addr:value = '198.51.100.11']", object_marking_refs=[GREEN],
                   confidence=85),
        _indicator(12, "[domain-name:value = 'c2.example']"),
        _indicator(13, "[url:value = 'https://c2.example/gate.php']"),
    ])  # fmt: skip
    options = {"username": "analyst", "password": "secret", "tlp": "amber"}
    with store.session() as session:
        feeds.add_feed(
            session,
            "nhs-taxii",
            "taxii",
            medallion,
            options=options,
            now=NOW,
            actor=Actor.cli("test"),
        )
        first = feeds.pull_feed(session, "nhs-taxii", now=NOW, actor=Actor.cli("test"))
    assert (first.status, first.added) == ("ok", 3)
    with store.session() as session:
        [ip] = intel.get_indicator(session, "ipv4:198.51.100.11")
        [domain] = intel.get_indicator(session, "domain:c2.example")
        assert feeds.get_feed(session, "nhs-taxii").cursor is not None
        assert "password" not in feeds.get_feed(session, "nhs-taxii").options
    assert (ip.source, ip.tlp, ip.confidence) == ("nhs-taxii", Tlp.GREEN, 85)
    assert domain.tlp is Tlp.AMBER

    with store.session() as session:
        again = feeds.pull_feed(
            session, "nhs-taxii", now=NOW + timedelta(hours=1), actor=Actor.cli("test")
        )
    assert again.status == "not_modified"

    _publish(medallion, [_indicator(14, "[ipv4-addr:value = '203.0.113.14']")])
    with store.session() as session:
        third = feeds.pull_feed(
            session, "nhs-taxii", now=NOW + timedelta(hours=2), actor=Actor.cli("test")
        )
        active = intel.active_indicators(session, NOW + timedelta(hours=3))
    # Only the new object came; nothing held expired because a TAXII pull is not a snapshot.
    assert (third.status, third.read, third.added, third.expired) == ("ok", 1, 1, 0)
    assert len(active) == 4


def test_taxii_wrong_password_is_a_failed_pull(store: Store, medallion: str) -> None:
    with store.session() as session:
        feeds.add_feed(
            session,
            "t",
            "taxii",
            medallion,
            options={"username": "analyst", "password": "wrong"},
            now=NOW,
            actor=Actor.cli("test"),
        )
        pull = feeds.pull_feed(session, "t", now=NOW, actor=Actor.cli("test"))
    assert pull.status == "failed"
    assert "401" in pull.reason or "UNAUTHORIZED" in pull.reason.upper()
