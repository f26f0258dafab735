"""The console loads nothing from outside, runs no inline code, and every asset it links is served.

A later change adds a Content-Security-Policy without 'unsafe-inline': these
checks keep the pages ready for it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import httpx
import polars as pl
import pytest
from fastapi import FastAPI

from bastion.alerts import record_alerts

pytestmark = pytest.mark.anyio

PAGES = (
    "/",
    "/?search=royal",
    "/?type=trust",
    "/orgs/RAL",
    "/orgs/QWE",
    "/docs",
    "/orgs/ZZZ",
    "/alerts",
    "/alerts?org=RAL&verdict=live&severity=high",
    "/alerts?org=ZZ9",
    "/alerts/1",
    "/alerts/2",
    "/alerts/999",
)
EXTERNAL = re.compile(r"(?:https?:)?//[a-z0-9.-]+", re.IGNORECASE)


class PageParts(HTMLParser):
    """Collect a page's links and assets, and anything a strict CSP would block."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.assets: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "a" and "href" in values:
            self.links.append(values["href"])
        if tag == "link" and "href" in values:
            self.assets.append(values["href"])
        if tag in {"script", "img"} and "src" in values:
            self.assets.append(values["src"])
        if tag == "script" and "src" not in values:
            self.inline.append("<script> without src")
        if tag == "style":
            self.inline.append("<style> element")
        self.inline.extend(f"{tag} {name}=" for name in values if name.startswith("on"))
        self.inline.extend(f"{tag} style=" for name in values if name == "style")


@pytest.fixture(scope="module", autouse=True)
def _alerts(sqlite_app: FastAPI) -> None:
    """Give the pages alerts to show: alert 1 live at RAL, alert 2 blocked at ZZ9 (no such member)."""
    events = pl.DataFrame(
        {
            "organization.id": ["RAL", "ZZ9"],
            "host.ip": ["10.20.1.5", "10.99.0.1"],
            "@timestamp": [datetime(2024, 3, 1, 10, tzinfo=UTC)] * 2,
            "kind": ["indicator", "rule"],
            "key": ["ind-1", "rule-1"],
            "title": ["<b>C2</b> traffic", "Scan"],
            "severity": ["high", "low"],
            "blocked": [False, True],
            "indicator.value": ["203.0.113.9", None],
            "event.original": ["<script>alert(1)</script> ${jndi:ldap:x}", "scan"],
        }
    )
    with sqlite_app.state.store.session() as session:
        record_alerts(session, events)


async def parse(client: httpx.AsyncClient, path: str) -> tuple[str, PageParts]:
    page = await client.get(path)
    assert page.status_code < 500, path
    parts = PageParts()
    parts.feed(page.text)
    return page.text, parts


@pytest.mark.parametrize("path", PAGES)
async def test_pages_reference_no_outside_url_and_no_inline_code(
    sqlite_client: httpx.AsyncClient, path: str
) -> None:
    html, parts = await parse(sqlite_client, path)
    assert EXTERNAL.findall(html) == []
    assert parts.inline == []
    assert parts.assets, "every page loads the stylesheet and script"


@pytest.mark.parametrize("path", PAGES)
async def test_every_asset_and_link_of_a_page_is_served(
    sqlite_client: httpx.AsyncClient, path: str
) -> None:
    _, parts = await parse(sqlite_client, path)
    for asset in parts.assets:
        assert asset.startswith("/static/"), asset
        answer = await sqlite_client.get(asset)
        assert answer.status_code == 200, asset
    for link in parts.links:
        if link.startswith(("mailto:", "#")):
            continue
        assert link.startswith("/"), link
        assert (await sqlite_client.get(link)).status_code == 200, link


async def test_static_assets_have_their_types_and_no_outside_references(
    sqlite_client: httpx.AsyncClient,
) -> None:
    types = {
        "/static/bastion.css": ("text/css",),
        "/static/bastion.js": ("text/javascript", "application/javascript"),
        "/static/favicon.svg": ("image/svg+xml",),
    }
    for path, media_types in types.items():
        answer = await sqlite_client.get(path)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith(media_types), path
        if not path.endswith(".svg"):  # an SVG names its XML namespace by URL; it loads nothing
            assert EXTERNAL.findall(answer.text) == [], path
            assert "@import" not in answer.text


async def test_static_does_not_serve_outside_its_folder(sqlite_client: httpx.AsyncClient) -> None:
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/missing.css"):
        assert (await sqlite_client.get(path)).status_code == 404, path
