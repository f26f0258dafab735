"""The organisations API: list, get and create, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.anyio

API = "/api/v1/organisations"


def new_org(**changes: Any) -> dict[str, Any]:
    """A valid body for a new trust under QWE, with ``changes`` applied."""
    body: dict[str, Any] = {
        "code": "r1k",
        "name": "Croydon Health Services NHS Trust",
        "type": "trust",
        "parent": "QWE",
        "networks": ["10.30.0.0/16"],
        "hosts": [{"hostname": "www.croydon.example", "address": "192.0.2.30"}],
        "contacts": [{"name": "Bo Example", "email": "Bo@Croydon.example"}],
    }
    body.update(changes)
    return body


async def test_list_returns_all_sorted_by_code_with_total(client: httpx.AsyncClient) -> None:
    answer = await client.get(API)
    assert answer.status_code == 200
    page = answer.json()
    assert [o["code"] for o in page["items"]] == ["A81001", "QWE", "RAL", "RJ1", "RX1", "Y56"]
    assert (page["total"], page["limit"], page["offset"]) == (6, 50, 0)
    assert page["items"][2] == {
        "code": "RAL",
        "name": "Royal Free London NHS Foundation Trust",
        "type": "trust",
        "parent": "QWE",
        "networks": ["10.20.0.0/16", "2001:db8:20::/48"],
    }


async def test_list_filters_by_search_type_and_parent(client: httpx.AsyncClient) -> None:
    cases: list[tuple[dict[str, str], list[str]]] = [
        ({"search": "ROYAL free"}, ["RAL"]),
        ({"search": "rj"}, ["RJ1"]),
        ({"search": "guy's"}, ["RJ1"]),
        ({"type": "trust"}, ["RAL", "RJ1", "RX1"]),
        ({"type": "trust", "search": "thomas"}, ["RJ1"]),
        ({"parent": "qwe"}, ["A81001", "RAL", "RJ1"]),
        ({"search": "no such organisation"}, []),
    ]
    for query, codes in cases:
        page = (await client.get(API, params=query)).json()
        assert [o["code"] for o in page["items"]] == codes, query
        assert page["total"] == len(codes), query


async def test_list_pages_with_limit_and_offset_keep_the_total(client: httpx.AsyncClient) -> None:
    first = (await client.get(API, params={"limit": 4})).json()
    second = (await client.get(API, params={"limit": 4, "offset": 4})).json()
    beyond = (await client.get(API, params={"limit": 4, "offset": 40})).json()
    assert [o["code"] for o in first["items"]] == ["A81001", "QWE", "RAL", "RJ1"]
    assert [o["code"] for o in second["items"]] == ["RX1", "Y56"]
    assert (beyond["items"], beyond["total"]) == ([], 6)
    assert first["total"] == second["total"] == 6
    assert (second["limit"], second["offset"]) == (4, 4)


async def test_list_limit_out_of_range_is_422_naming_limit(client: httpx.AsyncClient) -> None:
    for limit in ("0", "501", "99999999999999999999999", "ten"):
        answer = await client.get(API, params={"limit": limit})
        assert answer.status_code == 422, limit
        assert answer.json()["detail"].startswith("limit: "), limit


async def test_list_search_treats_odd_text_as_text(client: httpx.AsyncClient) -> None:
    for search in ("%", "_", "'; DROP TABLE organisations; --", "Ωμέγα 🛡", "\\", "a" * 200):
        answer = await client.get(API, params={"search": search})
        assert answer.status_code == 200, search
        assert answer.json()["total"] == len(answer.json()["items"]), search
    assert (await client.get(API)).json()["total"] == 6


async def test_list_with_unknown_parent_is_404(sqlite_client: httpx.AsyncClient) -> None:
    answer = await sqlite_client.get(API, params={"parent": "ZZZ"})
    assert answer.status_code == 404
    assert answer.json() == {"detail": "no organisation with code 'ZZZ'"}


async def test_get_returns_networks_contacts_hosts_and_children(client: httpx.AsyncClient) -> None:
    ral = (await client.get(f"{API}/ral")).json()
    assert ral["code"] == "RAL"
    assert ral["parent"] == "QWE"
    assert ral["networks"] == ["10.20.0.0/16", "2001:db8:20::/48"]
    assert ral["contacts"] == [
        {"name": "Ann Example", "email": "ann.example@royalfree.example", "role": "CISO"}
    ]
    assert ral["hosts"] == [
        {
            "hostname": "www.royalfree.example",
            "address": "192.0.2.10",
            "description": "public website",
        }
    ]
    assert (await client.get(f"{API}/QWE")).json()["children"] == 3


async def test_get_unknown_or_impossible_code_is_404_with_detail(
    client: httpx.AsyncClient,
) -> None:
    for code in ("ZZZ", "not-a-code!", "X" * 40):
        answer = await client.get(f"{API}/{code}")
        assert answer.status_code == 404, code
        assert answer.headers["content-type"].startswith("application/json")
        assert "no organisation with code" in answer.json()["detail"]


async def test_create_answers_201_with_location_and_is_then_found(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post(API, json=new_org(type="NHS trust"))
    assert answer.status_code == 201, answer.text
    assert answer.headers["location"] == f"{API}/R1K"
    created = answer.json()
    assert (created["code"], created["type"], created["parent"]) == ("R1K", "trust", "QWE")
    assert created["networks"] == ["10.30.0.0/16"]
    assert created["hosts"] == [
        {"hostname": "www.croydon.example", "address": "192.0.2.30", "description": ""}
    ]
    assert created["contacts"] == [
        {"name": "Bo Example", "email": "bo@croydon.example", "role": "security lead"}
    ]
    assert (await client.get(f"{API}/R1K")).json() == created
    children = (await client.get(API, params={"parent": "QWE"})).json()
    assert "R1K" in [o["code"] for o in children["items"]]


async def test_create_duplicate_code_or_taken_network_is_409_and_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    duplicate = await client.post(API, json=new_org(code="RAL", networks=[]))
    assert duplicate.status_code == 409
    assert duplicate.json() == {"detail": "organisation RAL already exists"}
    assert (await client.get(f"{API}/RAL")).json()["name"].startswith("Royal Free")
    taken = await client.post(API, json=new_org(networks=["10.20.0.0/16"]))
    assert taken.status_code == 409
    assert taken.json()["detail"] == "network 10.20.0.0/16 is already registered to RAL"
    assert (await client.get(f"{API}/R1K")).status_code == 404


async def test_create_invalid_cidr_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    answer = await client.post(API, json=new_org(networks=["10.30.0.0/16", "10.0.0.1/33"]))
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("networks[1]: invalid CIDR '10.0.0.1/33'")
    assert answer.json()["errors"][0]["field"] == "networks[1]"
    assert (await client.get(f"{API}/R1K")).status_code == 404


async def test_create_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        API, content=b'{"code": "R1K",', headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("body: not valid JSON")


async def test_create_with_unknown_parent_is_422_naming_parent(
    sqlite_client: httpx.AsyncClient,
) -> None:
    answer = await sqlite_client.post(API, json=new_org(parent="ZZZ"))
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("field 'parent': no organisation with code 'ZZZ'")
