"""The console's pages: the organisations list, one organisation, and the error pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from bastion import orgs
from bastion.audit import Actor
from bastion.auth import Role
from bastion.core.settings import Settings
from bastion.store import Store
from bastion.web import create_app
from bastion.web.testing import create_person, open_session, signed_in_client

pytestmark = pytest.mark.anyio

ROW = re.compile(r'<td class="code"><a href="/orgs/([A-Z0-9]+)">')


def listed(html: str) -> list[str]:
    """Return the codes in the list page's table, in order."""
    return ROW.findall(html)


async def test_list_shows_every_organisation_sorted_and_search_narrows_it(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert listed(page.text) == ["A81001", "QWE", "RAL", "RJ1", "RX1", "Y56"]
    assert "6 organisations in the federation" in page.text
    assert '<a href="/orgs/RAL">Royal Free London NHS Foundation Trust</a>' in page.text
    assert "Integrated care board" in page.text
    found = await client.get("/", params={"search": "royal free"})
    assert listed(found.text) == ["RAL"]
    assert "1 of 6 organisations match" in found.text
    assert 'value="royal free"' in found.text
    nothing = await client.get("/", params={"search": "no such organisation"})
    assert listed(nothing.text) == []
    assert "No organisation matches these filters" in nothing.text


async def test_org_page_shows_networks_contacts_hosts_parent_and_children_links(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/orgs/ral")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Royal Free London NHS Foundation Trust</h1>" in html
    assert '<a href="/orgs/QWE" id="parent-link">NHS South West London ICB (QWE)</a>' in html
    assert "<li>10.20.0.0/16</li>" in html
    assert "<li>2001:db8:20::/48</li>" in html
    assert "ann.example@royalfree.example" in html
    assert "CISO" in html
    assert "www.royalfree.example" in html
    assert "192.0.2.10" in html
    icb = (await client.get("/orgs/QWE")).text
    for child in ("A81001", "RAL", "RJ1"):
        assert f'<a href="/orgs/{child}">' in icb
    assert '<a href="/orgs/Y56" id="parent-link">' in icb


async def test_unknown_org_is_a_404_html_page(client: httpx.AsyncClient) -> None:
    page = await client.get("/orgs/ZZZ")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Not found" in page.text
    assert "no organisation with code &#39;ZZZ&#39;" in page.text


async def test_type_filter_narrows_and_stays_selected(sqlite_client: httpx.AsyncClient) -> None:
    page = await sqlite_client.get("/", params={"type": "trust"})
    assert listed(page.text) == ["RAL", "RJ1", "RX1"]
    assert '<option value="trust" selected>' in page.text
    everything = await sqlite_client.get("/", params={"type": "", "search": ""})
    assert len(listed(everything.text)) == 6


async def test_parent_filter_lists_the_children(sqlite_client: httpx.AsyncClient) -> None:
    page = await sqlite_client.get("/", params={"parent": "QWE"})
    assert listed(page.text) == ["A81001", "RAL", "RJ1"]
    assert "Children of" in page.text
    assert '<input type="hidden" name="parent" value="QWE">' in page.text


async def test_names_are_escaped(sqlite_client: httpx.AsyncClient) -> None:
    for path in ("/", "/orgs/RX1"):
        html = (await sqlite_client.get(path)).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Trust" in html
        assert "<script>alert" not in html


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/?page=0", 400, "page: Input should be greater than or equal to 1"),
        ("/?page=two", 400, "page: Input should be a valid integer"),
        ("/?type=hospital", 400, "unknown organisation type &#39;hospital&#39;"),
        ("/?parent=ZZZ", 404, "no organisation with code &#39;ZZZ&#39;"),
        ("/no/such/page", 404, "Not Found"),
    ],
)
async def test_bad_console_requests_get_an_html_error_page(
    sqlite_client: httpx.AsyncClient, path: str, status: int, says: str
) -> None:
    page = await sqlite_client.get(path)
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html")
    assert says in page.text
    assert '<a class="button" href="/">Back to organisations</a>' in page.text


async def test_org_page_template_keeps_a_block_for_alerts(sqlite_app: FastAPI) -> None:
    template = sqlite_app.state.templates.get_template("orgs/show.html")
    assert "alerts" in template.blocks


async def test_api_reference_lists_every_operation(sqlite_client: httpx.AsyncClient) -> None:
    page = await sqlite_client.get("/docs")
    assert page.status_code == 200
    spec = (await sqlite_client.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        for method in operations:
            assert f"{method.upper()}</span> <code>{path}</code>" in page.text
    assert "OrganisationIn" in page.text


@pytest.fixture
async def dspt_client(sqlite_store: Store, shared_data: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client over the published DSPT trusts snapshot: 211 trusts, 42 ICBs, 7 regions."""
    snapshot = shared_data / "assurance" / "dspt-trusts-snapshot-2023-11-16.csv"
    with sqlite_store.session() as session:
        orgs.import_organisations(session, snapshot, actor=Actor.cli("test"))
    analyst = create_person(sqlite_store, "analyst", Role.NATIONAL_ANALYST)
    cookie, csrf = open_session(sqlite_store, analyst)
    app = create_app(sqlite_store, Settings(data_dir=shared_data))
    async with signed_in_client(app, cookie, csrf) as client:
        yield client


async def test_real_federation_pages_50_at_a_time(dspt_client: httpx.AsyncClient) -> None:
    first = await dspt_client.get("/")
    assert "260 organisations in the federation" in first.text
    codes = listed(first.text)
    assert len(codes) == 50
    assert codes == sorted(codes)
    assert "1–50 of 260 · page 1 of 6" in first.text
    assert 'rel="next" href="/?page=2"' in first.text
    last = await dspt_client.get("/", params={"page": 6})
    assert len(listed(last.text)) == 10
    assert 'rel="prev" href="/?page=5"' in last.text
    assert listed(last.text)[0] > codes[-1]
    beyond = await dspt_client.get("/", params={"page": 7})
    assert beyond.status_code == 200
    assert "There is no page 7" in beyond.text


async def test_real_federation_search_and_type_keep_filters_across_pages(
    dspt_client: httpx.AsyncClient,
) -> None:
    leeds = await dspt_client.get("/", params={"search": "leeds"})
    assert listed(leeds.text) == ["RGD", "RR8", "RY6"]
    trusts = await dspt_client.get("/", params={"type": "trust"})
    assert "211 of 260 organisations match" in trusts.text
    assert 'rel="next" href="/?type=trust&amp;page=2"' in trusts.text
    west_yorkshire = await dspt_client.get("/orgs/QWO")
    assert '<a href="/orgs/RR8">' in west_yorkshire.text
