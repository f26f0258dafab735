"""The Defender pull client: client-credentials token, paged alerts_v2, a cursor that never
doubles, against an httpx transport standing in for Entra ID and Graph (never the internet)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from tests.alerts.test_external import _federation
from tests.alerts.test_store import T0

from bastion.alerts import list_alerts
from bastion.alerts.defender_pull import DefenderClient, cursor, pull_defender
from bastion.audit import Actor
from bastion.core.errors import FetchError
from bastion.store import Store

TOKEN_URL = "https://login.example.test/tenant/oauth2/v2.0/token"
ALERTS_URL = "https://graph.example.test/v1.0/security/alerts_v2"
DEVICE = {
    "@odata.type": "#microsoft.graph.security.deviceEvidence",
    "deviceDnsName": "pc-1.raa.example",
    "ipInterfaces": ["10.9.0.5"],
}


def _alert(n: int) -> dict[str, Any]:
    created = (T0 + timedelta(minutes=n)).isoformat().replace("+00:00", "Z")
    return {"id": f"da-{n}", "title": f"Alert {n}", "severity": "high",
            "createdDateTime": created, "evidence": [DEVICE]}  # fmt: skip


class Graph:
    """Entra ID's token endpoint and Graph's alerts_v2, paged two alerts a page."""

    def __init__(self, alerts: list[dict[str, Any]], alerts_url: str = ALERTS_URL) -> None:
        self.alerts = alerts
        self.alerts_url = alerts_url
        self.filters: list[str | None] = []
        self.tokens = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            form = parse_qs(request.content.decode())
            assert form["grant_type"] == ["client_credentials"]
            if form["client_secret"] != ["s3cret"]:
                return httpx.Response(401, json={"error": "invalid_client"})
            self.tokens += 1
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 3600})
        assert request.headers["Authorization"] == "Bearer tok"
        skip = int(request.url.params.get("skip", "0"))
        if skip == 0:
            self.filters.append(request.url.params.get("$filter"))
        wanted = self.alerts
        since = (self.filters[-1] or "").removeprefix("createdDateTime ge ")
        if since:
            wanted = [a for a in wanted if a["createdDateTime"] >= since]
        page: dict[str, Any] = {"value": wanted[skip : skip + 2]}
        if skip + 2 < len(wanted):
            page["@odata.nextLink"] = f"{self.alerts_url}?skip={skip + 2}"
        return httpx.Response(200, content=json.dumps(page).encode())


def _client(graph: Graph, secret: str = "s3cret") -> DefenderClient:
    return DefenderClient(
        TOKEN_URL, ALERTS_URL, "app-id", secret, transport=httpx.MockTransport(graph)
    )


def test_pull_follows_pages_then_pulls_from_its_cursor_without_doubling(
    sqlite_store: Store,
) -> None:
    _federation(sqlite_store)
    graph = Graph([_alert(n) for n in range(5)])
    actor = Actor.cli("soc")
    with sqlite_store.session() as session:
        first = pull_defender(session, actor, _client(graph))
    graph.alerts.append(_alert(9))
    with sqlite_store.session() as session:
        second = pull_defender(session, actor, _client(graph))
        alerts = list_alerts(session)[0]
        newest = cursor(session)
    assert (first.read, first.created) == (5, 5)
    # From the cursor on: the newest stored alert again (deduplicated) and the new one.
    assert (second.read, second.created, second.duplicates) == (2, 1, 1)
    assert graph.filters == [None, "createdDateTime ge 2024-03-01T10:04:00Z"]
    assert graph.tokens == 2  # one token a pull, for all its pages
    assert sorted(a.source_ref or "" for a in alerts) == [f"da-{n}" for n in (0, 1, 2, 3, 4, 9)]
    assert {a.org for a in alerts} == {"RAA"}
    assert newest == T0 + timedelta(minutes=9)


def test_a_refused_secret_is_a_fetch_error_and_stores_nothing(sqlite_store: Store) -> None:
    graph = Graph([_alert(0)])
    with sqlite_store.session() as session, pytest.raises(FetchError, match="HTTP 401"):
        pull_defender(session, Actor.cli("soc"), _client(graph, secret="wrong"))
    with sqlite_store.session() as session:
        assert list_alerts(session)[1] == 0
