"""`/api/v1/hunts` and `/api/v1/events`: the sandbox through the API, saved hunts, filters."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import polars as pl
import pytest
from fastapi import FastAPI

from bastion.boundary.archive import write_batch
from bastion.boundary.sandbox import HuntSlots
from bastion.store import Store
from bastion.web.testing import create_people, open_session, signed_in_client

pytestmark = pytest.mark.anyio

ClientAs = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def hunt_app(
    sqlite_store: Store, tmp_path: Path, make_app: Callable[[Store, Path], FastAPI]
) -> FastAPI:
    app = make_app(sqlite_store, tmp_path)
    events = pl.DataFrame(
        {
            "@timestamp": [datetime(2024, 3, 1, h, tzinfo=UTC) for h in (9, 10, 11)],
            "organization.id": ["RAL", "RJ1", "RAL"],
            "source.ip": ["10.20.0.5", "10.30.0.9", "10.20.0.6"],
            "url.domain": ["a.evil.example", None, "good.example"],
            "event.original": ["ral one", "rj1 secret", "ral two"],
        }
    )
    write_batch(events, app.state.settings.archive_dir, "batch-1")
    (tmp_path / "secret.csv").write_text("secret\nclassified\n", encoding="utf-8")
    return app


@pytest.fixture
def as_(hunt_app: FastAPI, sqlite_store: Store) -> ClientAs:
    people = create_people(sqlite_store)
    opened: dict[str, tuple[str, str]] = {}

    @asynccontextmanager
    async def make(name: str) -> AsyncIterator[httpx.AsyncClient]:
        if name not in opened:
            opened[name] = open_session(sqlite_store, people[name])
        async with signed_in_client(hunt_app, *opened[name]) as client:
            yield client

    return make


async def test_a_hunt_answers_rows_columns_and_cost(as_: ClientAs) -> None:
    async with as_("analyst") as client:
        answer = await client.post(
            "/api/v1/hunts",
            json={"sql": 'SELECT org, "event.original" FROM events ORDER BY 2', "limit": 2},
        )
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert [c["name"] for c in found["columns"]] == ["org", "event.original"]
    assert found["rows"] == [
        {"org": "RAL", "event.original": "ral one"},
        {"org": "RAL", "event.original": "ral two"},
    ]
    assert found["more"] is True
    assert found["cost"]["rows_scanned"] >= 3


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('{secret}')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_parquet('/etc/*.parquet')",
        "COPY (SELECT 1) TO '{out}'",
        "ATTACH '{out}' AS d",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "CREATE TABLE t AS SELECT 1",
        "PRAGMA version",
        "SELECT 1; SELECT 2",
    ],
)
async def test_every_escape_is_a_4xx_and_reads_nothing(
    as_: ClientAs, tmp_path: Path, sql: str
) -> None:
    query = sql.format(secret=tmp_path / "secret.csv", out=tmp_path / "out.db")
    async with as_("analyst") as client:
        answer = await client.post("/api/v1/hunts", json={"sql": query})
    assert 400 <= answer.status_code < 500, answer.text
    assert "classified" not in answer.text
    assert "root:" not in answer.text
    assert not (tmp_path / "out.db").exists()


async def test_one_hunt_at_a_time_per_person(as_: ClientAs, hunt_app: FastAPI) -> None:
    slots = hunt_app.state.hunt_slots = HuntSlots()
    async with as_("analyst") as analyst, as_("admin") as admin:
        with slots.hold("user:analyst"):  # the analyst's first hunt is still running
            busy = await analyst.post("/api/v1/hunts", json={"sql": "SELECT 1"})
            other = await admin.post("/api/v1/hunts", json={"sql": "SELECT 1 AS one"})
        after = await analyst.post("/api/v1/hunts", json={"sql": "SELECT 1 AS one"})
    assert busy.status_code == 409
    assert "already have a hunt running" in busy.json()["detail"]
    assert other.status_code == 200
    assert after.status_code == 200


async def test_a_hunt_past_its_time_is_stopped(
    sqlite_store: Store, tmp_path: Path, make_app: Callable[[Store, Path], FastAPI]
) -> None:
    from bastion.core.settings import Settings
    from bastion.web import create_app

    make_app(sqlite_store, tmp_path)  # seeds the federation
    quick = Settings(data_dir=tmp_path, hunt_time_limit_seconds=0.5)
    app = create_app(sqlite_store, quick)
    analyst = create_people(sqlite_store)["analyst"]
    endless = "SELECT sum(a.x * b.x) FROM range(1000000) a(x), range(1000000) b(x)"
    async with signed_in_client(app, *open_session(sqlite_store, analyst)) as client:
        answer = await client.post("/api/v1/hunts", json={"sql": endless})
    assert answer.status_code == 422
    assert "longer than 0.5 s" in answer.json()["detail"]


async def test_export_answers_csv_and_parquet(as_: ClientAs) -> None:
    sql = 'SELECT "event.original" AS line FROM events ORDER BY 1'
    async with as_("analyst") as client:
        csv = await client.post("/api/v1/hunts/export", json={"sql": sql})
        parquet = await client.post("/api/v1/hunts/export", json={"sql": sql, "format": "parquet"})
    assert csv.text.splitlines() == ["line", "ral one", "ral two", "rj1 secret"]
    assert "attachment" in csv.headers["content-disposition"]
    assert pl.read_parquet(io.BytesIO(parquet.content))["line"].to_list() == [
        "ral one",
        "ral two",
        "rj1 secret",
    ]


async def test_saved_hunts_are_private_unless_shared(as_: ClientAs) -> None:
    async with as_("analyst") as analyst, as_("admin") as admin:
        mine = await analyst.post("/api/v1/hunts/saved", json={"name": "mine", "sql": "SELECT 1"})
        shared = await analyst.post(
            "/api/v1/hunts/saved", json={"name": "ours", "sql": "SELECT 2", "shared": True}
        )
        seen_by_admin = (await admin.get("/api/v1/hunts/saved")).json()
        seen_by_analyst = (await analyst.get("/api/v1/hunts/saved")).json()
        not_theirs = await admin.delete(f"/api/v1/hunts/saved/{mine.json()['id']}")
        page = await admin.get(f"/hunt?saved={mine.json()['id']}")
    assert (mine.status_code, shared.status_code) == (201, 201)
    assert [h["name"] for h in seen_by_admin] == ["ours"]
    assert [h["name"] for h in seen_by_analyst] == ["mine", "ours"]
    assert seen_by_admin[0]["owner"] == "user:analyst"
    assert not_theirs.status_code == 404
    assert page.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"sql": "SELECT 1\x00"},
        {"sql": ""},
        {"sql": "SELECT 1", "limit": 1001},
        {"sql": "SELECT 1", "offset": -1},
        {"sql": "SELECT 1", "extra": 1},
    ],
)
async def test_malformed_hunts_are_422(as_: ClientAs, body: dict[str, object]) -> None:
    async with as_("analyst") as client:
        answer = await client.post("/api/v1/hunts", json=body)
    assert answer.status_code == 422, answer.text


async def test_event_search_filters_and_refuses_a_bad_address(as_: ClientAs) -> None:
    async with as_("lead") as lead, as_("analyst") as analyst:
        own = (await lead.get("/api/v1/events")).json()
        domain = (await analyst.get("/api/v1/events", params={"domain": "evil.example"})).json()
        bad = await lead.get("/api/v1/events", params={"address": "10.0.0.1' OR 1=1"})
        columns = (await analyst.get("/api/v1/hunts/columns")).json()
    assert [e["event.original"] for e in own["items"]] == ["ral two", "ral one"]
    assert [e["event.original"] for e in domain["items"]] == ["ral one"]
    assert bad.status_code == 400
    assert "not an IP address" in bad.json()["detail"]
    assert {"name": "source.ip", "type": "VARCHAR"} in columns
