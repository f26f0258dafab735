"""Threat intelligence in the API and the console: search, show, add, expire, import, feeds, pulls.

Indicators and feeds are national data: national roles read them, analysts and
administrators change them, members get 403 (the tenancy matrix checks every
route for every role; these tests check what each answer holds).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import httpx
import polars as pl
import pytest
from fastapi import FastAPI

from bastion import audit, intel
from bastion.alerts import record_alerts
from bastion.audit import Actor
from bastion.core.timeutil import utcnow
from bastion.core.types import Severity
from bastion.intel import feeds
from bastion.store import Store
from bastion.web.testing import signed_in_client

from .conftest import ClientAs

pytestmark = pytest.mark.anyio

API = "/api/v1/intel"
BAD = "domain:c2.bad.example"


def listing(value: str, source: str, **extra: object) -> intel.Indicator:
    return intel.Indicator(intel.IndicatorType.DOMAIN, value, source, **extra)  # type: ignore[arg-type]


@pytest.fixture
def world(app: FastAPI, store: Store) -> Store:
    """Two sources listing one domain, sightings at RAL (this week) and RJ1 (a month ago), alerts."""
    now = utcnow()
    with store.session() as session:
        intel.store_listings(
            session,
            [
                listing("c2.bad.example", "feed-a", severity=Severity.HIGH, threat="qakbot"),
                listing("c2.bad.example", "feed-b", confidence=90),
                listing("old.bad.example", "feed-a", valid_until=now - timedelta(days=1)),
                intel.Indicator(intel.IndicatorType.IPV4, "203.0.113.7", "feed-b"),
            ],
            reason="test",
            actor=Actor.cli("test"),
        )
        intel.record_sightings(
            session,
            pl.DataFrame(
                {
                    "indicator.id": [BAD, BAD, BAD],
                    "organization.id": ["RAL", "RAL", "RJ1"],
                    "@timestamp": [
                        now - timedelta(days=2),
                        now - timedelta(days=1),
                        now - timedelta(days=30),
                    ],
                }
            ),
        )
        record_alerts(
            session,
            pl.DataFrame(
                [
                    {
                        "organization.id": org,
                        "host.ip": "10.20.1.5",
                        "@timestamp": now - timedelta(days=days),
                        "kind": "indicator",
                        "key": BAD,
                        "title": f"C2 at {org}",
                        "severity": "high",
                        "blocked": False,
                        "indicator.type": "domain",
                        "indicator.value": "c2.bad.example",
                        "indicator.source": "feed-a",
                        "indicator.threat": "qakbot",
                        "event.original": "raw",
                        "log.file.path": "/l",
                        "log.offset": days,
                        "event.dataset": "panos.traffic",
                    }
                    for org, days in (("RAL", 1), ("RJ1", 30))
                ]
            ),
        )
    return store


class Served:
    """A local HTTP server of indicator lists (path -> body)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.base = ""


@pytest.fixture
def served() -> Iterator[Served]:
    state = Served()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = state.files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


# The API --------------------------------------------------------------------------------


async def test_search_filters_pages_and_sorts(world: Store, client_as: ClientAs) -> None:
    async with client_as("auditor") as c:
        everything = (await c.get(f"{API}/indicators")).json()
        by_source = (await c.get(f"{API}/indicators", params={"source": "feed-b"})).json()
        active = (await c.get(f"{API}/indicators", params={"active": "true"})).json()
        expired = (await c.get(f"{API}/indicators", params={"active": "false"})).json()
        ips = (await c.get(f"{API}/indicators", params={"type": "ipv4"})).json()
        found = (await c.get(f"{API}/indicators", params={"q": "QAKBOT"})).json()
        page = (await c.get(f"{API}/indicators", params={"limit": 2, "offset": 2})).json()
        by_conf = (await c.get(f"{API}/indicators", params={"sort": "-confidence"})).json()
    assert everything["total"] == 4
    assert {(i["value"], i["source"]) for i in by_source["items"]} == {
        ("c2.bad.example", "feed-b"),
        ("203.0.113.7", "feed-b"),
    }
    assert active["total"] == 3
    assert [i["value"] for i in expired["items"]] == ["old.bad.example"]
    assert [i["id"] for i in ips["items"]] == ["ipv4:203.0.113.7"]
    assert [(i["source"], i["threat"]) for i in found["items"]] == [("feed-a", "qakbot")]
    assert (page["total"], len(page["items"]), page["offset"]) == (4, 2, 2)
    assert by_conf["items"][0]["confidence"] == 90


async def test_an_indicator_shows_sources_sightings_this_week_and_alerts(
    world: Store, client_as: ClientAs
) -> None:
    async with client_as("analyst") as c:
        answer = await c.get(f"{API}/indicators/{BAD}")
    assert answer.status_code == 200
    body = answer.json()
    assert [x["source"] for x in body["listings"]] == ["feed-a", "feed-b"]
    assert body["active"] is True
    assert body["organisations_hit_this_week"] == 1  # RAL; RJ1 was a month ago
    assert {(s["org"], s["count"]) for s in body["sightings"]} == {("RAL", 2), ("RJ1", 1)}
    assert body["alert_total"] == 2
    assert {a["org"] for a in body["recent_alerts"]} == {"RAL", "RJ1"}
    assert [ch["change"] for ch in body["changes"]] == ["created", "created"]


async def test_an_analyst_adds_and_expires_an_indicator_and_both_are_audited(
    world: Store, client_as: ClientAs
) -> None:
    async with client_as("analyst") as c:
        added = await c.post(
            f"{API}/indicators",
            json={"type": "url", "value": "HTTP://Evil.example/a/b?x=1", "severity": "critical"},
        )
        assert added.status_code == 201, added.text
        new_id = added.json()["id"]
        shown = await c.get(f"{API}/indicators/{quote(new_id, safe=':/')}")
        expired = await c.post(
            f"{API}/indicators/expire", json={"id": BAD, "reason": "sinkholed", "source": "feed-a"}
        )
        after = (await c.get(f"{API}/indicators/{BAD}")).json()
    assert new_id.startswith("url:http://evil.example/a/b")
    assert shown.status_code == 200
    assert shown.json()["listings"][0]["severity"] == "critical"
    assert expired.json() == {"id": BAD, "expired": 1}
    until = {x["source"]: x["valid_until"] for x in after["listings"]}
    assert until["feed-a"] is not None
    assert until["feed-b"] is None
    assert after["changes"][-1]["reason"] == "sinkholed"
    with world.session() as session:
        events, _ = audit.list_events(session)
    mine = [(e.actor, e.action, e.target) for e in events if e.action.startswith("intel.")]
    assert ("user:analyst", "intel.indicator_add", f"indicator:{new_id}") in mine
    assert ("user:analyst", "intel.indicator_expire", f"indicator:{BAD}") in mine


@pytest.mark.parametrize("role", ["auditor", "lead", "viewer"])
async def test_read_only_and_member_roles_may_not_write(
    world: Store, client_as: ClientAs, role: str
) -> None:
    async with client_as(role) as c:
        add = await c.post(f"{API}/indicators", json={"type": "ipv4", "value": "198.51.100.1"})
        expire = await c.post(f"{API}/indicators/expire", json={"id": BAD, "reason": "x"})
        upload = await c.post(f"{API}/import", files={"file": ("l.txt", b"bad.example\n")})
        read = await c.get(f"{API}/indicators/{BAD}")
    assert (add.status_code, expire.status_code, upload.status_code) == (403, 403, 403)
    # Auditors read; members see no intel at all, so never another member's sightings.
    assert read.status_code == (200 if role == "auditor" else 403)
    if role != "auditor":
        assert "RJ1" not in read.text
        assert "RAL" not in read.text
    with world.session() as session:
        assert intel.list_indicators(session, search="198.51.100.1")[1] == 0


async def test_import_detects_the_format_like_the_cli(
    world: Store, client: httpx.AsyncClient
) -> None:
    stix = {
        "type": "bundle",
        "id": "bundle--00000000-0000-4000-8000-000000000001",
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--00000000-0000-4000-8000-000000000002",
                "created": "2026-11-01T00:00:00Z",
                "modified": "2026-11-01T00:00:00Z",
                "pattern": "[ipv4-addr:value = '198.51.100.99']",
                "pattern_type": "stix",
                "valid_from": "2026-11-01T00:00:00Z",
            },
            {"type": "indicator", "id": "indicator--broken"},
        ],
    }
    plain = await client.post(
        f"{API}/import", files={"file": ("list.txt", b"# list\nphish.example\n198.51.100.5\n")}
    )
    csv = await client.post(
        f"{API}/import",
        files={"file": ("mine.csv", b"type,value,severity\ndomain,csv.bad.example,high\n")},
        data={"source": "partner"},
    )
    bundle = await client.post(
        f"{API}/import", files={"file": ("b.json", json.dumps(stix).encode())}
    )
    assert plain.status_code == 201, plain.text
    assert (plain.json()["format"], plain.json()["created"]) == ("plain", 2)
    assert (csv.json()["format"], csv.json()["created"]) == ("bastion-csv", 1)
    assert (bundle.json()["format"], bundle.json()["read"], bundle.json()["skipped"]) == (
        "stix",
        1,
        1,
    )
    assert bundle.json()["problems"]
    with world.session() as session:
        assert intel.get_indicator(session, "domain:csv.bad.example")[0].source == "partner"
        assert intel.get_indicator(session, "ipv4:198.51.100.99")
        events, _ = audit.list_events(session, action="intel.import")
    uploads = {e.target for e in events if e.target.startswith("file:")}  # not the seed's import
    assert uploads == {"file:list.txt", "file:mine.csv", "file:b.json"}


async def test_a_bad_file_is_refused_whole_with_where_it_is_wrong(
    world: Store, client: httpx.AsyncClient
) -> None:
    bad_csv = await client.post(
        f"{API}/import",
        files={"file": ("x.csv", b"type,value\ndomain,ok.example\nipv4,not-an-ip\n")},
    )
    empty = await client.post(f"{API}/import", files={"file": ("e.txt", b"")})
    unknown = await client.post(
        f"{API}/import", files={"file": ("a.txt", b"a.example\n")}, data={"format": "xml"}
    )
    missing = await client.post(f"{API}/import")
    assert bad_csv.status_code == 400
    assert "x.csv" in bad_csv.json()["detail"]
    assert "line 3" in bad_csv.json()["detail"]
    assert empty.status_code == 400
    assert "empty" in empty.json()["detail"]
    assert unknown.status_code == 400
    assert "xml" in unknown.json()["detail"]
    assert missing.status_code == 422
    with world.session() as session:  # all or nothing: the good row of the bad file is not kept
        assert intel.list_indicators(session, search="ok.example")[1] == 0


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "wanted"),
    [
        ("GET", "/indicators", {"params": {"type": "nonsense"}}, 422),
        ("GET", "/indicators", {"params": {"limit": 0}}, 422),
        ("GET", "/indicators", {"params": {"sort": "colour"}}, 400),
        ("GET", "/indicators", {"params": {"active": "maybe"}}, 400),
        ("GET", "/indicators", {"params": {"q": "a\x00b"}}, 422),
        ("GET", "/indicators/no-colon", {}, 400),
        ("GET", "/indicators/bogus:value", {}, 400),
        ("GET", "/indicators/domain:absent.example", {}, 404),
        ("POST", "/indicators", {"json": {"type": "ipv4", "value": "999.1.1.1"}}, 400),
        ("POST", "/indicators", {"json": {"type": "ipv4"}}, 422),
        ("POST", "/indicators", {"json": {"type": "ipv4", "value": "1.2.3.4", "x": 1}}, 422),
        ("POST", "/indicators", {"json": {"type": "ipv4", "value": "1.2.3.4", "confidence": 101}}, 422),
        ("POST", "/indicators", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 422),
        ("POST", "/indicators/expire", {"json": {"id": BAD}}, 422),
        ("POST", "/indicators/expire", {"json": {"id": BAD, "reason": ""}}, 422),
        ("POST", "/indicators/expire", {"json": {"id": "domain:absent.example", "reason": "x"}}, 404),
        ("GET", "/feeds/absent/pulls", {}, 404),
        ("POST", "/feeds/absent/pull", {}, 404),
    ],
)  # fmt: skip
async def test_malformed_input_is_a_4xx(
    world: Store,
    client: httpx.AsyncClient,
    method: str,
    path: str,
    kwargs: dict[str, object],
    wanted: int,
) -> None:
    answer = await client.request(method, f"{API}{path}", **kwargs)  # type: ignore[arg-type]
    assert answer.status_code == wanted, answer.text
    assert answer.json()["detail"]


async def test_a_pull_stores_what_the_feed_lists_and_a_failed_one_loses_nothing(
    world: Store, client_as: ClientAs, served: Served
) -> None:
    served.files["/list.txt"] = b"pulled.bad.example\n198.51.100.44\n"
    with world.session() as session:
        feeds.add_feed(
            session,
            "ok-feed",
            "plain",
            f"{served.base}/list.txt",
            now=utcnow(),
            actor=Actor.cli("test"),
        )
        feeds.add_feed(
            session,
            "gone-feed",
            "plain",
            f"{served.base}/gone.txt",
            now=utcnow(),
            actor=Actor.cli("test"),
        )
    async with client_as("analyst") as c:
        ok = await c.post(f"{API}/feeds/ok-feed/pull")
        failed = await c.post(f"{API}/feeds/gone-feed/pull")
        listed = (await c.get(f"{API}/feeds")).json()
        history = (await c.get(f"{API}/feeds/ok-feed/pulls")).json()
        pulled = await c.get(f"{API}/indicators/domain:pulled.bad.example")
    async with client_as("auditor") as c:
        refused = await c.post(f"{API}/feeds/ok-feed/pull")
        auditor_view = await c.get(f"{API}/feeds")
    assert (ok.json()["status"], ok.json()["added"]) == ("ok", 2)
    assert failed.status_code == 200
    assert (failed.json()["status"], failed.json()["http_status"]) == ("failed", 404)
    last = {f["name"]: f["last_pull"]["status"] for f in listed}
    assert last == {"ok-feed": "ok", "gone-feed": "failed"}
    assert [p["status"] for p in history] == ["ok"]
    assert pulled.json()["listings"][0]["source"] == "ok-feed"
    assert refused.status_code == 403
    assert auditor_view.status_code == 200
    with world.session() as session:
        assert intel.list_indicators(session)[1] == 6  # the four held, two pulled
        events, _ = audit.list_events(session, action="intel.feed_pull")
    assert sorted(e.target for e in events) == ["feed:gone-feed", "feed:ok-feed"]


# The console ----------------------------------------------------------------------------


async def test_the_list_page_searches_sorts_and_pages(
    world: Store, client: httpx.AsyncClient
) -> None:
    with world.session() as session:
        intel.store_listings(
            session,
            [listing(f"bulk{n:03d}.example", "bulk") for n in range(60)],
            reason="t",
            actor=Actor.cli("test"),
        )
    first = await client.get("/intel")
    second = await client.get("/intel", params={"page": 2})
    searched = await client.get("/intel", params={"q": "qakbot"})
    by_source = await client.get("/intel", params={"sort": "-source", "source": "bulk"})
    bad_sort = await client.get("/intel", params={"sort": "colour"})
    assert first.status_code == 200
    assert 'aria-current="page">Intel' in first.text
    assert "64 listings" in first.text
    assert "page 1 of 2" in first.text
    assert 'rel="next"' in first.text
    assert "page=2" in first.text
    assert "page 2 of 2" in second.text
    assert second.text.count("data-indicator=") == 14
    assert searched.text.count("data-indicator=") == 1
    assert "c2.bad.example" in searched.text
    assert by_source.text.count("data-indicator=") == 50
    assert 'aria-sort="descending"' in by_source.text
    assert bad_sort.status_code == 400


async def test_the_indicator_page_says_how_many_organisations_it_hit_this_week(
    world: Store, client_as: ClientAs
) -> None:
    async with client_as("auditor") as c:
        page = await c.get(f"/intel/indicators/{BAD}")
    assert page.status_code == 200
    assert "Hit 1 organisation this week" in page.text
    assert 'data-source="feed-a"' in page.text
    assert 'data-source="feed-b"' in page.text
    assert 'data-org="RAL"' in page.text
    assert 'data-org="RJ1"' in page.text
    assert "C2 at RAL" in page.text
    assert "C2 at RJ1" in page.text
    assert 'id="expire-form"' not in page.text  # an auditor reads only


async def test_an_analyst_adds_and_expires_through_the_forms(
    world: Store, client_as: ClientAs
) -> None:
    async with client_as("analyst") as c:
        listing_page = await c.get("/intel")
        added = await c.post(
            "/intel/indicators",
            data={"type": "domain", "value": "Form.Bad.Example", "severity": "low"},
        )
        shown = await c.get(added.headers["location"])
        expired = await c.post("/intel/expire", data={"id": BAD, "reason": "taken down"})
        after = await c.get(f"{API}/indicators/{BAD}")
        bad = await c.post("/intel/indicators", data={"type": "ipv4", "value": "nope"})
    assert 'id="indicator-form"' in listing_page.text
    assert added.status_code == 303
    assert added.headers["location"] == "/intel/indicators/domain:form.bad.example"
    assert shown.status_code == 200
    assert 'id="expire-form"' in shown.text
    assert expired.status_code == 303
    assert all(x["valid_until"] for x in after.json()["listings"])
    assert bad.status_code == 400


async def test_forms_need_the_csrf_token(
    world: Store, app: FastAPI, sessions: dict[str, tuple[str, str]]
) -> None:
    cookie, _ = sessions["analyst"]
    async with signed_in_client(app, cookie, None) as c:
        answer = await c.post("/intel/expire", data={"id": BAD, "reason": "x"})
    assert answer.status_code == 403
    with world.session() as session:
        assert all(i.valid_until is None for i in intel.get_indicator(session, BAD))


async def test_members_get_no_intel_page_and_no_nav_entry(
    world: Store, client_as: ClientAs
) -> None:
    async with client_as("lead") as c:
        overview = await c.get("/overview")
        page = await c.get(f"/intel/indicators/{BAD}")
        feeds_page = await c.get("/intel/feeds")
    assert overview.status_code == 200
    assert ">Intel<" not in overview.text
    assert page.status_code == 403
    assert "RJ1" not in page.text
    assert feeds_page.status_code == 403


async def test_the_feed_pages_show_the_last_pull_and_the_history(
    world: Store, client: httpx.AsyncClient
) -> None:
    with world.session() as session:
        feeds.add_feed(
            session,
            "dead-feed",
            "plain",
            "http://127.0.0.1:9/x.txt",
            now=utcnow(),
            actor=Actor.cli("test"),
        )
        feeds.add_feed(
            session,
            "new-feed",
            "plain",
            "http://127.0.0.1:9/y.txt",
            now=utcnow(),
            actor=Actor.cli("test"),
        )
    await client.post(f"{API}/feeds/dead-feed/pull")
    listed = await client.get("/intel/feeds")
    history = await client.get("/intel/feeds/dead-feed")
    absent = await client.get("/intel/feeds/absent")
    assert listed.status_code == 200
    assert 'data-feed="dead-feed"' in listed.text
    assert "pull-status-failed" in listed.text
    assert "never pulled" in listed.text  # new-feed
    assert history.text.count("data-pull=") == 1
    assert "failed" in history.text
    assert absent.status_code == 404
