"""`/health` and what the API answers when the database is gone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine

from bastion.core.settings import Settings
from bastion.store import Store
from bastion.web import create_app
from bastion.web.auth import SESSION_COOKIE

pytestmark = pytest.mark.anyio


@pytest.fixture
async def broken_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose SQLite database cannot be opened (its folder does not exist).

    It presents a session cookie, so the app must ask the database who it is.
    """
    store = Store(create_engine(f"sqlite:///{tmp_path / 'missing' / 'bastion.db'}"))
    app = create_app(store, Settings(data_dir=tmp_path))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        cookies={SESSION_COOKIE: "a-session-the-database-would-know"},
    ) as client:
        yield client
    store.dispose()


async def test_health_is_ok_when_the_database_answers(client: httpx.AsyncClient) -> None:
    answer = await client.get("/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok"}
    assert answer.headers["cache-control"] == "no-store"


async def test_health_is_503_with_the_reason_when_the_database_fails(
    broken_client: httpx.AsyncClient,
) -> None:
    answer = await broken_client.get("/health")
    assert answer.status_code == 503
    body = answer.json()
    assert (body["status"], body["database"]) == ("error", "error")
    assert body["detail"] == "database error: unable to open database file"


async def test_api_is_503_json_when_the_database_fails(broken_client: httpx.AsyncClient) -> None:
    answer = await broken_client.get("/api/v1/organisations")
    assert answer.status_code == 503
    assert "unable to open database file" in answer.json()["detail"]
    assert "bastion init" in answer.json()["detail"]


async def test_console_is_503_html_when_the_database_fails(
    broken_client: httpx.AsyncClient,
) -> None:
    answer = await broken_client.get("/")
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("text/html")
    assert "Service unavailable" in answer.text
