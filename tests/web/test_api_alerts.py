"""The alerts API: list with filters and paging, get with evidence, 404 and bad parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import polars as pl
import pytest
from fastapi import FastAPI

from bastion.alerts import list_alerts, record_alerts
from bastion.store import Store

pytestmark = pytest.mark.anyio

API = "/api/v1/alerts"
T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
RAW = 'GET /?q=<script>alert(1)</script> "${jndi:ldap://x/a}"'


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


@pytest.fixture
def alert_ids(store: Store, app: FastAPI) -> dict[str, int]:
    """Three alerts after the federation is seeded: RAL live high, RAL blocked medium, RJ1 live critical."""
    events = [
        hit("RAL", "ind-old", 0, blocked=True, severity="medium"),
        hit("RAL", "ind-old", 5, blocked=True, severity="medium"),
        hit("RAL", "ind-live", 10, blocked=False, severity="high"),
        hit("RJ1", "ind-rj1", 20, blocked=False, severity="critical"),
    ]
    with store.session() as session:
        record_alerts(session, pl.DataFrame(events))
    with store.session() as session:
        found, _ = list_alerts(session)
    return {a.key: a.id for a in found}


async def test_list_is_newest_first_filters_and_pages(
    client: httpx.AsyncClient, alert_ids: dict[str, int]
) -> None:
    answer = await client.get(API)
    assert answer.status_code == 200
    page = answer.json()
    assert [a["key"] for a in page["items"]] == ["ind-rj1", "ind-live", "ind-old"]
    assert (page["total"], page["limit"], page["offset"]) == (3, 50, 0)
    old = page["items"][2]
    assert old["id"] == alert_ids["ind-old"]
    assert (old["org"], old["host"], old["verdict"], old["severity"]) == (
        "RAL",
        "10.20.1.5",
        "blocked",
        "medium",
    )
    assert old["count"] == 2
    assert old["first_seen"].startswith("2024-03-01T10:00:00")
    assert old["last_seen"].startswith("2024-03-01T10:05:00")
    assert "evidence" not in old
    cases: list[tuple[dict[str, str], list[str]]] = [
        ({"org": "ral"}, ["ind-live", "ind-old"]),
        ({"org": "RJ1"}, ["ind-rj1"]),
        ({"org": "A81001"}, []),
        ({"verdict": "live"}, ["ind-rj1", "ind-live"]),
        ({"verdict": "blocked"}, ["ind-old"]),
        ({"severity": "critical"}, ["ind-rj1"]),
        ({"org": "RAL", "verdict": "live", "severity": "high"}, ["ind-live"]),
        ({"org": "RAL", "severity": "critical"}, []),
    ]
    for query, keys in cases:
        page = (await client.get(API, params=query)).json()
        assert [a["key"] for a in page["items"]] == keys, query
        assert page["total"] == len(keys), query
    first = (await client.get(API, params={"limit": 2})).json()
    rest = (await client.get(API, params={"limit": 2, "offset": 2})).json()
    beyond = (await client.get(API, params={"offset": 10})).json()
    assert [a["key"] for a in first["items"]] == ["ind-rj1", "ind-live"]
    assert [a["key"] for a in rest["items"]] == ["ind-old"]
    assert (first["total"], rest["total"], rest["offset"]) == (3, 3, 2)
    assert (beyond["items"], beyond["total"]) == ([], 3)
    assert first["total_exact"]
    assert first["next_cursor"]
    after = (await client.get(API, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [a["key"] for a in after["items"]] == ["ind-old"]
    assert (after["next_cursor"], after["total"]) == (None, 3)
    bad = await client.get(API, params={"cursor": "bm9wZQ"})
    assert bad.status_code == 400
    assert "invalid cursor" in bad.json()["detail"]


async def test_get_returns_the_alert_with_evidence_and_unknown_id_is_404(
    client: httpx.AsyncClient, alert_ids: dict[str, int]
) -> None:
    answer = await client.get(f"{API}/{alert_ids['ind-old']}")
    assert answer.status_code == 200
    alert = answer.json()
    assert (alert["title"], alert["kind"], alert["retrospective"]) == (
        "Traffic to known C2 (ind-old)",
        "indicator",
        False,
    )
    assert (alert["indicator_type"], alert["indicator_value"]) == ("ipv4", "203.0.113.9")
    assert (alert["indicator_source"], alert["indicator_threat"]) == ("feed-a", "qakbot")
    assert [e["offset"] for e in alert["evidence"]] == [4096, 4101]
    first = alert["evidence"][0]
    assert (first["dataset"], first["path"], first["raw"]) == ("panos.traffic", "/logs/fw.log", RAW)
    assert first["timestamp"].startswith("2024-03-01T10:00:00")
    assert {"created_at", "updated_at"} <= set(alert)
    missing = max(alert_ids.values()) + 1
    answer = await client.get(f"{API}/{missing}")
    assert answer.status_code == 404
    # The API's reader cannot run the command line: no `bastion …` hint in its answers.
    assert answer.json() == {"detail": f"no alert with id {missing}"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": str(2**40)}, "offset"),
        ({"verdict": "open"}, "verdict"),
        ({"severity": "urgent"}, "severity"),
        ({"org": "R-1!"}, "org"),
        ({"org": "R" * 17}, "org"),
    ],
)
async def test_list_rejects_bad_parameters_with_422_naming_them(
    sqlite_client: httpx.AsyncClient, query: dict[str, str], field: str
) -> None:
    answer = await sqlite_client.get(API, params=query)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(f"{field}: ")
    assert answer.json()["errors"][0]["field"] == field


@pytest.mark.parametrize("alert_id", ["0", "-3", "abc", str(2**40)])
async def test_get_rejects_ids_that_cannot_exist_with_422(
    sqlite_client: httpx.AsyncClient, alert_id: str
) -> None:
    answer = await sqlite_client.get(f"{API}/{alert_id}")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "alert_id"


async def test_openapi_describes_the_alert_operations(sqlite_client: httpx.AsyncClient) -> None:
    spec = (await sqlite_client.get("/openapi.json")).json()
    assert set(spec["paths"][API]) == {"get"}
    assert set(spec["paths"][f"{API}/{{alert_id}}"]) == {"get"}
    assert {"AlertPage", "AlertSummary", "AlertOut", "EvidenceOut"} <= set(
        spec["components"]["schemas"]
    )


async def test_triage_through_the_api_groups_history_and_bulk(
    client: httpx.AsyncClient, alert_ids: dict[str, int]
) -> None:
    old, live = alert_ids["ind-old"], alert_ids["ind-live"]
    # one organisation, host and indicator within the hour: one group, oldest first
    group = (await client.get(f"{API}/groups/{old}")).json()
    assert [a["id"] for a in group["alerts"]] == [old, live]
    acked = (await client.post(f"{API}/{old}/ack", json={"reason": "looking"})).json()
    assert [a["state"] for a in acked["changed"]] == ["acknowledged"]
    bulk = await client.post(
        f"{API}/bulk",
        json={"action": "close", "org": "RAL", "resolution": "false_positive", "reason": "lab"},
    )
    assert sorted(a["id"] for a in bulk.json()["changed"]) == sorted([old, live])
    assert (await client.post(f"{API}/{live}/notes", json={"text": "done"})).status_code == 201
    history = (await client.get(f"{API}/{old}/history")).json()
    assert [(h["field"], h["after"], h["reason"]) for h in history] == [
        ("state", "acknowledged", "looking"),
        ("state", "closed", "lab"),
        ("resolution", "false_positive", "lab"),
    ]
    listed = (await client.get(API, params={"state": "closed"})).json()
    assert {a["id"] for a in listed["items"]} == {old, live}
    for path, body in [
        (f"{API}/{live}/close", {"resolution": "maybe"}),
        (f"{API}/bulk", {"action": "assign", "ids": [live]}),
        (f"{API}/bulk", {"action": "ack"}),
        (f"{API}/{live}/assign", {"assignee": ""}),
    ]:
        answer = await client.post(path, json=body)
        assert 400 <= answer.status_code < 500, (path, body, answer.text)
    assert (await client.post(f"{API}/{live}/assign", json={"assignee": "x"})).status_code == 409


async def test_an_unknown_organisation_is_a_404_with_a_message(
    client: httpx.AsyncClient, alert_ids: dict[str, int]
) -> None:
    answer = await client.get(API, params={"org": "NOPE"})
    assert answer.status_code == 404
    assert "no organisation with code 'NOPE'" in answer.json()["detail"]
    assert (await client.get(API, params={"org": "RJ1"})).json()["total"] == 1


async def test_a_source_pushes_alerts_deduplicated_attributed_and_grouped(
    client: httpx.AsyncClient, alert_ids: dict[str, int]
) -> None:
    body = {
        "source": "edr-x",
        "alerts": [
            {
                "id": "e-1",
                "title": "Beacon to C2",
                "severity": "high",
                "time": (T0 + timedelta(minutes=12)).isoformat(),
                "device_ip": "10.20.1.5",
                "remote_ip": "203.0.113.9",
            },
            {"id": "e-2", "title": "Odd thing", "time": T0.isoformat()},
        ],
    }
    first = await client.post(f"{API}/ingest", json=body)
    assert first.status_code == 201, first.text
    # e-1 is RAL's (its network holds the device); e-2 names no device
    assert first.json() == {"read": 2, "created": 2, "duplicates": 0, "unattributed": 1}
    pushed = (await client.get(API, params={"org": "RAL"})).json()["items"]
    [edr] = [a for a in pushed if a["source"] == "edr-x"]
    assert (edr["kind"], edr["source_ref"], edr["severity"]) == ("external", "e-1", "high")
    group = (await client.get(f"{API}/groups/{edr['group_id']}")).json()
    assert alert_ids["ind-old"] in {a["id"] for a in group["alerts"]}
    again = (await client.post(f"{API}/ingest", json=body)).json()
    assert (again["created"], again["duplicates"]) == (0, 2)
    for bad in (
        {"source": "edr-x", "alerts": []},
        {"source": "BAD SOURCE", "alerts": body["alerts"]},
    ):
        assert (await client.post(f"{API}/ingest", json=bad)).status_code == 422
