"""Every malformed request to the API is a 4xx naming what is wrong, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from bastion import orgs
from bastion.web.auth import SESSION_COOKIE

pytestmark = pytest.mark.anyio

API = "/api/v1/organisations"
VALID = {"code": "R1K", "name": "Croydon Health Services NHS Trust", "type": "trust"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": str(2**40)}, "offset"),
        ({"type": "hospital"}, "type"),
        ({"search": "x" * 201}, "search"),
        ({"search": "nul\x00byte"}, "search"),
        ({"parent": "P" * 17}, "parent"),
    ],
)
async def test_list_rejects_bad_parameters_with_422_naming_them(
    sqlite_client: httpx.AsyncClient, query: dict[str, str], field: str
) -> None:
    answer = await sqlite_client.get(API, params=query)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(f"{field}: ")
    assert answer.json()["errors"][0] | {"message": ""} == {
        "field": field,
        "location": "query",
        "message": "",
    }


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"networks": ["10.0.0.1/33"]}, "networks[0]", "invalid CIDR '10.0.0.1/33'"),
        ({"networks": ["10.30.0.0/16", "10.0.0.1/8"]}, "networks[1]", "host bits set"),
        ({"networks": "10.30.0.0/16"}, "networks", "valid list"),
        ({"code": "R-1K!"}, "code", "invalid organisation code"),
        ({"code": None}, "code", "valid string"),
        ({"type": "hospital"}, "type", "unknown organisation type 'hospital'"),
        ({"type": 3}, "type", "organisation type as a string"),
        ({"contacts": [{"name": "Bo", "email": "bo-at-croydon"}]}, "contacts[0].email", "e-mail"),
        ({"contacts": [{"email": "bo@croydon.example"}]}, "contacts[0].name", "Field required"),
        ({"hosts": [{"hostname": "bad host"}]}, "hosts[0].hostname", "invalid host name"),
        ({"hosts": ["www.croydon.example"]}, "hosts[0]", "valid dictionary"),
        ({"hosts": [{"hostname": "a.example", "address": "300.1.1.1"}]}, "hosts[0].address", "IP"),
        ({"parent": "RX!"}, "parent", "invalid organisation code"),
        ({"parent": "r1k"}, "parent", "own parent"),
        ({"name": ""}, "name", "at least 1 character"),
        ({"name": "x" * 201}, "name", "at most 200"),
        ({"name": "nul\x00byte"}, "name", "control characters"),
        ({"network": ["10.30.0.0/16"]}, "network", "Extra inputs"),
        ({"networks": [f"10.{i // 256}.{i % 256}.0/24" for i in range(1001)]}, "networks", "1000"),
    ],
)
async def test_create_invalid_field_is_422_naming_the_field(
    sqlite_client: httpx.AsyncClient, changes: dict[str, Any], field: str, says: str
) -> None:
    answer = await sqlite_client.post(API, json=VALID | changes)
    assert answer.status_code == 422, answer.text
    problems = {p["field"]: p["message"] for p in answer.json()["errors"]}
    assert field in problems, problems
    assert says in problems[field]
    assert f"{field}: " in answer.json()["detail"]


async def test_create_missing_field_is_422_naming_it(sqlite_client: httpx.AsyncClient) -> None:
    answer = await sqlite_client.post(API, json={"code": "R1K", "type": "trust"})
    assert answer.status_code == 422
    assert answer.json()["detail"] == "name: Field required"


@pytest.mark.parametrize(
    ("content", "status", "says"),
    [
        (b'{"code": "R1K",', 422, "body: not valid JSON"),
        (b"", 422, "body: Field required"),
        (b"[1, 2]", 422, "valid dictionary"),
        (b'"R1K"', 422, "valid dictionary"),
        (b"\xff\xfe\x00", 400, "error parsing the body"),
    ],
)
async def test_create_malformed_body_is_4xx_not_500(
    sqlite_client: httpx.AsyncClient, content: bytes, status: int, says: str
) -> None:
    answer = await sqlite_client.post(
        API, content=content, headers={"content-type": "application/json"}
    )
    assert answer.status_code == status, answer.text
    assert says in answer.json()["detail"]


async def test_validation_errors_do_not_echo_the_input(sqlite_client: httpx.AsyncClient) -> None:
    answer = await sqlite_client.post(API, json=VALID | {"type": "<img src=x onerror=alert(1)>"})
    assert answer.status_code == 422
    assert all(set(p) == {"field", "location", "message"} for p in answer.json()["errors"])


async def test_create_racing_another_create_is_409(
    sqlite_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def lose_the_race(*_args: object, **_kwargs: object) -> None:
        raise IntegrityError("INSERT INTO organisations", {}, Exception("unique violation"))

    monkeypatch.setattr(orgs, "save_organisation", lose_the_race)
    answer = await sqlite_client.post(API, json=VALID)
    assert answer.status_code == 409
    assert "at the same time" in answer.json()["detail"]


async def test_unexpected_error_is_500_without_internals(
    sqlite_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(orgs, "list_organisations", broken)
    transport = httpx.ASGITransport(app=sqlite_app, raise_app_exceptions=False)
    cookie, _ = sqlite_app.state.test_session
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies={SESSION_COOKIE: cookie}
    ) as client:
        answer = await client.get(API)
    assert answer.status_code == 500
    assert "secret" not in answer.text
    assert answer.json()["detail"].startswith("internal error")


async def test_unknown_api_path_and_method_answer_json(sqlite_client: httpx.AsyncClient) -> None:
    missing = await sqlite_client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found"}
    wrong = await sqlite_client.delete(f"{API}/RAL")
    assert wrong.status_code == 405
    assert "GET" in wrong.headers["allow"]


async def test_openapi_describes_the_api_and_needs_no_internet(
    sqlite_client: httpx.AsyncClient,
) -> None:
    answer = await sqlite_client.get("/openapi.json")
    assert answer.status_code == 200
    spec = answer.json()
    assert set(spec["paths"][API]) == {"get", "post"}
    assert set(spec["paths"][f"{API}/{{code}}"]) == {"get"}
    post = spec["paths"][API]["post"]["responses"]
    assert {"201", "409", "422"} <= set(post)
    assert post["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/Problem")
    assert "http://" not in answer.text
    assert "https://" not in answer.text
    # FastAPI's own pages load Swagger UI / ReDoc from a CDN: they must not be there.
    assert (await sqlite_client.get("/redoc")).status_code == 404
    assert "swagger" not in (await sqlite_client.get("/docs")).text.lower()
