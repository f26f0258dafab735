"""Vulnerability feeds pulled through the one fetcher, on an injected ``httpx.MockTransport``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bastion import advisories as adv
from bastion.audit import Actor
from bastion.core import fetch
from bastion.core.errors import FetchError
from bastion.store import Store

KEV_URL = "https://feeds.example/known_exploited_vulnerabilities.json"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TEST = Actor.cli("test")


class KevServer:
    """Answers the KEV catalogue with an ETag, and 304 to a GET that sends that ETag back."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.sent: list[str | None] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"kev-1"':
            return httpx.Response(304)
        return httpx.Response(200, content=self.body, headers={"ETag": '"kev-1"'})


def test_an_advisory_feed_is_pulled_through_the_injected_client_conditionally(
    sqlite_store: Store, shared_data: Path
) -> None:
    server = KevServer((shared_data / "intel" / "cisa-kev-2025-08-25.json").read_bytes())
    with fetch.new_client(httpx.MockTransport(server)) as http, sqlite_store.session() as session:
        adv.add_feed(session, "kev", KEV_URL, actor=TEST, interval_minutes=60)
        [(_, first)] = adv.run_feeds(session, actor=TEST, now=T0, client=http)
        [(_, second)] = adv.run_feeds(session, actor=TEST, now=T0 + timedelta(hours=2), client=http)
        [feed] = adv.list_feeds(session)
        held = len(adv.list_vulnerabilities(session, kev_only=True, limit=5000))
    assert first == "1404 records, 0 EPSS scores, 0 new exposures"
    assert second == "not modified"
    assert server.sent == [None, '"kev-1"']
    assert (feed.last_status, held) == ("not modified", 1404)


def test_an_advisory_feed_over_the_size_cap_fails_saying_why(
    sqlite_store: Store,
) -> None:
    def huge(request: httpx.Request) -> httpx.Response:
        declared = {"Content-Length": str(fetch.MAX_BYTES + 1)}  # refused before it is read
        return httpx.Response(200, headers=declared, content=iter([b"{}"]))

    with fetch.new_client(httpx.MockTransport(huge)) as http, sqlite_store.session() as session:
        adv.add_feed(session, "kev", KEV_URL, actor=TEST)
        [(_, outcome)] = adv.run_feeds(session, actor=TEST, now=T0, client=http)
    assert outcome == f"failed: {KEV_URL} sent more than 512 MiB, the most a feed may send"


def test_importing_a_url_that_fails_says_which_and_how(sqlite_store: Store) -> None:
    gone = httpx.MockTransport(lambda request: httpx.Response(404))
    with (
        fetch.new_client(gone) as http,
        sqlite_store.session() as session,
        pytest.raises(FetchError, match=f"^{re.escape(KEV_URL)} answered HTTP 404 Not Found$"),
    ):
        adv.import_url(session, KEV_URL, actor=TEST, client=http)


def test_an_advisory_feed_without_an_etag_is_asked_if_modified_since(
    sqlite_store: Store, shared_data: Path
) -> None:
    body = (shared_data / "intel" / "cisa-kev-2025-08-25.json").read_bytes()
    stamp = "Mon, 25 Aug 2025 14:00:00 GMT"
    sent: list[str | None] = []

    def by_date(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("If-Modified-Since"))
        if request.headers.get("If-Modified-Since") == stamp:
            return httpx.Response(304)
        return httpx.Response(200, content=body, headers={"Last-Modified": stamp})

    with fetch.new_client(httpx.MockTransport(by_date)) as http, sqlite_store.session() as session:
        adv.add_feed(session, "kev", KEV_URL, actor=TEST)
        adv.run_feeds(session, actor=TEST, now=T0, client=http)
        [(_, again)] = adv.run_feeds(session, actor=TEST, now=T0, force=True, client=http)
    assert sent == [None, stamp]
    assert again == "not modified"
