"""Every API and console route that changes state leaves exactly one audit event.

The routes come from ``app.routes`` (every POST, PUT, PATCH and DELETE), and
each is called the way the tenancy matrix calls it (``CASES``), by a caller
allowed to: a route added without a case fails ``test_every_mutating_route_
has_a_case``, and one whose service forgets to record (or records twice)
fails ``test_each_mutating_route_leaves_one_audit_event``. Sign-in is the one
pair of public routes that changes state; it is walked here by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.web.test_tenancy_matrix import CASES, TARGETS, World, app_routes, build_world

from bastion import audit, auth
from bastion.store import Store
from bastion.web.auth import PRE_COOKIE
from bastion.web.testing import BASE_URL, PASSWORD, create_people, open_session

pytestmark = pytest.mark.anyio

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Public routes that change state: signing in records the person's sign-in.
SIGN_IN = {("POST", "/signin"), ("POST", "/signin/totp")}
# POST only to keep a password out of URLs and logs: a check changes nothing but a daily count.
CHECKS = {("POST", "/api/v1/passwords/check"), ("POST", "/api/v1/passwords/check/range")}
# Measurements, not changes: an agent's probe results and a push monitor's heartbeat.
MEASUREMENTS = {("POST", "/api/v1/uptime/results"), ("POST", "/push/{token}")}


def mutating_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) of the app whose method changes state."""
    return {(m, p) for m, p in app_routes(app) if m in MUTATING}


def caller(allowed: frozenset[str]) -> str:
    """Pick who calls a route: the national administrator when allowed, else a member."""
    return "admin" if "admin" in allowed else sorted(allowed)[0]


def trail_size(store: Store) -> int:
    with store.session() as session:
        return audit.list_events(session, limit=1)[1]


@pytest.fixture
def world(sqlite_store: Store, tmp_path: Path, make_app: Any) -> World:
    app = make_app(sqlite_store, tmp_path)
    people = create_people(sqlite_store)
    sessions = {name: open_session(sqlite_store, p) for name, p in people.items()}
    return build_world(app, sqlite_store, people, sessions)


def test_every_mutating_route_has_a_case(app: FastAPI) -> None:
    routes = mutating_routes(app)
    covered = {key for key in CASES if key[0] in MUTATING} | SIGN_IN | MEASUREMENTS
    assert not routes - covered, (
        f"mutating routes without an audit case: {sorted(routes - covered)}"
    )
    assert not covered - routes, (
        f"cases of routes the app no longer has: {sorted(covered - routes)}"
    )


async def test_each_mutating_route_leaves_one_audit_event(world: World) -> None:
    wrong = {}
    for (method, path), case in CASES.items():
        if method not in MUTATING or (method, path) in CHECKS | MEASUREMENTS:
            continue
        role = caller(case.allowed)
        verb, url, kwargs = case.build(world, TARGETS.get(role, ("RAL",))[0])
        async with world.client(role, fresh=case.fresh_session) as client:
            before = trail_size(world.store)
            answer = await client.request(verb, url, **kwargs)
        assert answer.status_code == case.ok, f"{role} {method} {path}: {answer.text[:300]}"
        added = trail_size(world.store) - before
        if added != 1:
            wrong[(method, path)] = added
    assert not wrong, f"routes that did not leave exactly one audit event: {wrong}"


async def sign_in_form(client: httpx.AsyncClient, username: str) -> httpx.Response:
    """Post the password form the way a browser does: its pre-session cookie is its token."""
    await client.get("/signin")
    token = next(c.value for c in client.cookies.jar if c.name == PRE_COOKIE)
    form = {"username": username, "password": PASSWORD, "csrf_token": token}
    return await client.post("/signin", data=form)


async def test_signing_in_leaves_one_audit_event(world: World) -> None:
    transport = httpx.ASGITransport(app=world.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as lead:
        before = trail_size(world.store)
        answer = await sign_in_form(lead, "lead")
        assert answer.status_code == 303, answer.text[:300]
        assert trail_size(world.store) - before == 1
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as admin:
        password = await sign_in_form(admin, "admin")
        assert password.headers["location"].startswith("/signin/totp")
        page = await admin.get("/signin/totp")
        csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        secret = world.people["admin"].totp_secret
        assert secret
        # The fixture signed in with this step's code: the next step's is still accepted.
        code = auth.totp_now(secret, datetime.now(UTC) + timedelta(seconds=30))
        before = trail_size(world.store)
        answer = await admin.post("/signin/totp", data={"code": code, "csrf_token": csrf})
        assert answer.status_code == 303, answer.text[:300]
        assert trail_size(world.store) - before == 1
    with world.store.session() as session:
        events, _ = audit.list_events(session, action="user.sign_in", limit=2)
    assert [e.actor for e in events] == ["user:admin", "user:lead"]
