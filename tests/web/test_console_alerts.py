"""The console's alert pages: the national list, one alert, and an organisation's alerts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import polars as pl
import pytest
from fastapi import FastAPI

from bastion.alerts import list_alerts, record_alerts
from bastion.store import Store

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
RAW = 'GET /?q=<script>alert(1)</script> "${jndi:ldap://x/a}" & more'
ROW = re.compile(r'<tr class="alert-row alert-row-(\w+)" data-alert="(\d+)">')


def hit(org: str, key: str, minute: int, *, blocked: bool, severity: str) -> dict[str, Any]:
    """One candidate event: an indicator hit at ``org``'s host, ``minute`` after T0."""
    return {
        "organization.id": org,
        "host.ip": "10.20.1.5",
        "@timestamp": T0 + timedelta(minutes=minute),
        "kind": "indicator",
        "key": key,
        "title": f"Traffic to known C2 ({key})",
        "severity": severity,
        "blocked": blocked,
        "indicator.type": "ipv4",
        "indicator.value": "203.0.113.9",
        "indicator.source": "feed-a",
        "indicator.threat": "qakbot",
        "event.original": RAW,
        "log.file.path": "/logs/fw.log",
        "log.offset": 4096 + minute,
        "event.dataset": "panos.traffic",
    }


def record(store: Store, events: list[dict[str, Any]]) -> dict[str, int]:
    """Record ``events`` as alerts; return every alert's id by key."""
    with store.session() as session:
        record_alerts(session, pl.DataFrame(events))
    with store.session() as session:
        found, _ = list_alerts(session)
    return {a.key: a.id for a in found}


@pytest.fixture
def alert_ids(store: Store, app: FastAPI) -> dict[str, int]:
    """RAL: a blocked medium alert, then a live high one; RJ1: a live critical one, newest."""
    return record(
        store,
        [
            hit("RAL", "ind-old", 0, blocked=True, severity="medium"),
            hit("RAL", "ind-live", 10, blocked=False, severity="high"),
            hit("RJ1", "ind-rj1", 20, blocked=False, severity="critical"),
        ],
    )


def rows(html: str) -> list[tuple[str, int]]:
    """Return each alert row's status and id, in order."""
    return [(status, int(alert_id)) for status, alert_id in ROW.findall(html)]


async def test_list_shows_newest_first_live_apart_from_blocked_and_filters(
    client: httpx.AsyncClient, alert_ids: dict[str, int]
) -> None:
    page = await client.get("/alerts")
    assert page.status_code == 200
    assert rows(page.text) == [
        ("live", alert_ids["ind-rj1"]),
        ("live", alert_ids["ind-live"]),
        ("blocked", alert_ids["ind-old"]),
    ]
    assert page.text.count('<span class="alert-status alert-status-live"') == 2
    assert page.text.count('<span class="alert-status alert-status-blocked"') == 1
    assert '<span class="severity severity-critical">Critical</span>' in page.text
    assert f'<a href="/alerts/{alert_ids["ind-live"]}">Traffic to known C2 (ind-live)</a>' in (
        page.text
    )
    assert '<td class="code"><a href="/orgs/RAL">RAL</a></td>' in page.text
    assert '<time datetime="2024-03-01T10:20:00+00:00">2024-03-01 10:20:00</time>' in page.text
    assert "3 alerts raised at the boundary" in page.text
    assert '<a href="/alerts" aria-current="page">Alerts</a>' in page.text
    cases: list[tuple[dict[str, str], list[str]]] = [
        ({"org": "ral"}, ["ind-live", "ind-old"]),
        ({"verdict": "blocked"}, ["ind-old"]),
        ({"verdict": "live", "org": "RAL"}, ["ind-live"]),
        ({"severity": "critical"}, ["ind-rj1"]),
        ({"org": "", "verdict": "", "severity": ""}, ["ind-rj1", "ind-live", "ind-old"]),
        ({"org": "A81001"}, []),
    ]
    for query, keys in cases:
        page = await client.get("/alerts", params=query)
        assert [alert_id for _, alert_id in rows(page.text)] == [alert_ids[k] for k in keys], query
    filtered = (await client.get("/alerts", params={"org": "ral", "verdict": "live"})).text
    assert 'value="RAL"' in filtered
    assert '<option value="live" selected>' in filtered
    assert "Royal Free London NHS Foundation Trust (RAL)" in filtered
    assert (
        "No alert matches these filters"
        in (await client.get("/alerts", params={"org": "A81001"})).text
    )


async def test_list_pages_fifty_at_a_time_keeping_the_filters(
    store: Store, client: httpx.AsyncClient, app: FastAPI
) -> None:
    ids = record(
        store,
        [hit("RJ1", f"page-{n:02d}", n * 90, blocked=True, severity="low") for n in range(53)],
    )
    first = (await client.get("/alerts", params={"verdict": "blocked"})).text
    second = (await client.get("/alerts", params={"verdict": "blocked", "page": 2})).text
    assert [i for _, i in rows(first)] == [ids[f"page-{n:02d}"] for n in range(52, 2, -1)]
    assert [i for _, i in rows(second)] == [ids[f"page-{n:02d}"] for n in (2, 1, 0)]
    assert "1–50 of 53 · page 1 of 2" in first
    assert 'href="/alerts?verdict=blocked&amp;page=2">Next →' in first
    assert 'href="/alerts?verdict=blocked">← Previous' in second
    beyond = (await client.get("/alerts", params={"page": 9})).text
    assert "There is no page 9" in beyond


async def test_alert_page_shows_fields_indicator_escaped_evidence_and_404s(
    client: httpx.AsyncClient, alert_ids: dict[str, int]
) -> None:
    page = await client.get(f"/alerts/{alert_ids['ind-live']}")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Traffic to known C2 (ind-live)</h1>" in html
    assert 'id="alert-state"' in html
    assert "Live threat." in html
    assert '<dd class="code"><a href="/orgs/RAL">RAL</a></dd>' in html
    assert '<dd class="mono">10.20.1.5</dd>' in html
    assert '<span class="severity severity-high">High</span>' in html
    for value in ("ipv4", "203.0.113.9", "feed-a", "qakbot", "panos.traffic", "/logs/fw.log"):
        assert value in html
    assert '<dd class="mono">4106</dd>' in html
    escaped = (
        "GET /?q=&lt;script&gt;alert(1)&lt;/script&gt; &#34;${jndi:ldap://x/a}&#34; &amp; more"
    )
    assert f'<pre class="raw">{escaped}</pre>' in html
    assert "<script>alert" not in html
    assert '<a href="/alerts?org=RAL">All alerts of RAL</a>' in html
    blocked = (await client.get(f"/alerts/{alert_ids['ind-old']}")).text
    assert "Blocked." in blocked
    assert "Live threat." not in blocked
    missing = await client.get(f"/alerts/{max(alert_ids.values()) + 1}")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "no alert with id" in missing.text
    impossible = await client.get("/alerts/abc")
    assert impossible.status_code == 400
    assert "alert_id: Input should be a valid integer" in impossible.text


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("verdict=open", "unknown verdict &#39;open&#39;"),
        ("severity=urgent", "unknown severity &#39;urgent&#39;"),
        ("org=R-1!", "invalid organisation code &#39;R-1!&#39;"),
        ("page=0", "page: Input should be greater than or equal to 1"),
    ],
)
async def test_bad_filters_get_a_400_page_naming_them(
    sqlite_client: httpx.AsyncClient, query: str, says: str
) -> None:
    page = await sqlite_client.get(f"/alerts?{query}")
    assert page.status_code == 400
    assert says in page.text


async def test_org_page_lists_its_ten_latest_alerts_and_not_another_orgs(
    store: Store, client: httpx.AsyncClient, alert_ids: dict[str, int]
) -> None:
    html = (await client.get("/orgs/RAL")).text
    assert rows(html) == [("live", alert_ids["ind-live"]), ("blocked", alert_ids["ind-old"])]
    assert f'href="/alerts/{alert_ids["ind-rj1"]}"' not in html
    assert '<a href="/alerts?org=RAL" id="all-alerts-link">All 2 alerts of RAL</a>' in html
    other = (await client.get("/orgs/RJ1")).text
    assert rows(other) == [("live", alert_ids["ind-rj1"])]
    quiet = (await client.get("/orgs/A81001")).text
    assert rows(quiet) == []
    assert "No alerts for this organisation." in quiet
    more = record(
        store,
        [hit("RAL", f"k{n:02d}", 60 + n * 90, blocked=True, severity="low") for n in range(12)],
    )
    busy = (await client.get("/orgs/RAL")).text
    assert [i for _, i in rows(busy)] == [more[f"k{n:02d}"] for n in range(11, 1, -1)]
    assert "All 14 alerts of RAL" in busy


FORTIGATE = (
    'date=2024-03-01 time=10:00:00 devname="fw1" logid="0000000013" type="traffic" '
    'subtype="forward" srcip=198.51.100.23 srcport=40000 dstip=10.20.1.5 dstport=22 proto=6 '
    'action="deny"'
)


def test_evidence_is_parsed_again_and_the_hunt_covers_the_host_an_hour_around() -> None:
    from bastion.web.console.alerts import evidence_fields, rule_of_alert

    fields = evidence_fields(FORTIGATE)
    assert (fields["event.type"], fields["source.ip"], fields["destination.port"]) == (
        "denied",
        "198.51.100.23",
        "22",
    )
    assert evidence_fields("not a log line") == {}
    assert evidence_fields(None) == {}
    assert rule_of_alert('sigma:abc {"src_ip":"1.2.3.4"}') == "abc"
    assert rule_of_alert("builtin:port-scan:1.2.3.4") == "builtin:port-scan"
    assert rule_of_alert("ind-42") is None


async def test_alert_page_links_its_rule_and_shows_parsed_fields(
    store: Store, client: httpx.AsyncClient
) -> None:
    ids = record(
        store, [hit("RAL", "builtin:port-scan:198.51.100.23", 0, blocked=True, severity="low")]
    )
    alert_id = ids["builtin:port-scan:198.51.100.23"]
    with store.session() as session:
        from bastion.alerts.models import AlertRow

        row = session.get(AlertRow, alert_id)
        assert row is not None
        row.evidence = [{**row.evidence[0], "raw": FORTIGATE}]
    page = (await client.get(f"/alerts/{alert_id}")).text
    assert 'href="/rules/builtin:port-scan"' in page
    assert "fortigate.traffic" in page
    assert "BETWEEN TIMESTAMPTZ" in page
