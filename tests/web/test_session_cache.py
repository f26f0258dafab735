"""The per-process cache of who a session is never outlives a change: the next request sees it.

Two apps over one store stand for two server processes: a change made anywhere
(here through the auth service, as the CLI or another process would) reaches
both at their very next request, though both had the person cached.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import update
from tests.web.conftest import TEST_LIMITS

from bastion import auth
from bastion.auth import Role
from bastion.auth.models import SessionRow
from bastion.auth.signin import session_hash
from bastion.core.settings import Settings
from bastion.core.timeutil import utcnow
from bastion.store import Store
from bastion.web import create_app
from bastion.web.testing import signed_in_client

pytestmark = pytest.mark.anyio
ADMIN = auth.system_principal("test")


@pytest.fixture
def second_app(app: FastAPI, store: Store, tmp_path: Path) -> FastAPI:
    """Another app over the same store: another server process, with a cache of its own."""
    return create_app(store, Settings(data_dir=tmp_path), **TEST_LIMITS)  # type: ignore[arg-type]


async def _status(app: FastAPI, session: tuple[str, str], path: str) -> int:
    async with signed_in_client(app, *session) as client:
        return (await client.get(path)).status_code


async def _both(apps: list[FastAPI], session: tuple[str, str], path: str) -> list[int]:
    return [await _status(a, session, path) for a in apps]


async def test_a_revoked_membership_ends_access_at_once_in_every_process(
    app: FastAPI, second_app: FastAPI, store: Store, sessions: dict[str, tuple[str, str]]
) -> None:
    apps = [app, second_app]
    assert await _both(apps, sessions["multi"], "/api/v1/organisations/RJ1") == [200, 200]
    with store.session() as session:
        auth.revoke_membership(session, ADMIN, "multi", "RJ1")
    assert await _both(apps, sessions["multi"], "/api/v1/organisations/RJ1") == [404, 404]
    assert await _both(apps, sessions["multi"], "/api/v1/organisations/RAL") == [200, 200]


async def test_a_granted_role_applies_at_once(
    app: FastAPI, second_app: FastAPI, store: Store, sessions: dict[str, tuple[str, str]]
) -> None:
    apps = [app, second_app]
    assert await _both(apps, sessions["viewer"], "/api/v1/organisations/RJ1") == [404, 404]
    for each in apps:
        async with signed_in_client(each, *sessions["lead"]) as client:
            assert (await client.get("/api/v1/me")).json()["memberships"] == {"RAL": "org_lead"}
    with store.session() as session:
        auth.grant(session, ADMIN, "viewer", "RJ1", Role.ORG_VIEWER)
    assert await _both(apps, sessions["viewer"], "/api/v1/organisations/RJ1") == [200, 200]
    # A lesser role at the same organisation is a change too: the lead's write is gone.
    with store.session() as session:
        auth.grant(session, ADMIN, "lead", "RAL", Role.ORG_VIEWER)
    for each in apps:
        async with signed_in_client(each, *sessions["lead"]) as client:
            assert (await client.get("/api/v1/me")).json()["memberships"] == {"RAL": "org_viewer"}


async def test_an_ended_session_is_refused_at_once(
    app: FastAPI, second_app: FastAPI, store: Store, sessions: dict[str, tuple[str, str]]
) -> None:
    apps = [app, second_app]
    ways = {"viewer": "sign_out", "lead": "sign_out_everywhere", "multi": "disable"}
    for name in [*ways, "auditor"]:
        assert await _both(apps, sessions[name], "/api/v1/me") == [200, 200]
    with store.session() as db:
        auth.sign_out(db, sessions["viewer"][0])
        auth.sign_out_user(db, ADMIN, "lead")
        auth.set_disabled(db, ADMIN, "multi", True)
        db.execute(  # the auditor's session is over: past its absolute lifetime
            update(SessionRow)
            .where(SessionRow.token_hash == session_hash(sessions["auditor"][0]))
            .values(expires_at=utcnow())
        )
    for name in [*ways, "auditor"]:
        assert await _both(apps, sessions[name], "/api/v1/me") == [401, 401], name
