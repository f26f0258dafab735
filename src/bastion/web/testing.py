"""Helpers for tests of the web app (Bastion's and other contexts'): people, sessions, clients.

The pytest fixtures in tests/web/conftest.py are built from these; a test that
needs its own app (another store, other data) uses them directly.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI

from bastion import auth
from bastion.auth import Role
from bastion.core.timeutil import utcnow
from bastion.store import Store
from bastion.web.auth import CSRF_HEADER, SESSION_COOKIE

BASE_URL = "http://testserver"
PASSWORD = "correct horse battery staple"
# argon2id still, at the smallest cost: production's 64 MiB per hash would dominate a test suite.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@dataclass(frozen=True)
class Person:
    """A test user: how they sign in and what they are."""

    username: str
    national_role: Role | None
    memberships: tuple[tuple[str, Role], ...]
    totp_secret: str | None


# One person per role, and one member of two organisations with a different role at each.
PEOPLE: dict[str, tuple[Role | None, tuple[tuple[str, Role], ...]]] = {
    "admin": (Role.NATIONAL_ADMIN, ()),
    "analyst": (Role.NATIONAL_ANALYST, ()),
    "auditor": (Role.AUDITOR, ()),
    "lead": (None, (("RAL", Role.ORG_LEAD),)),
    "viewer": (None, (("RAL", Role.ORG_VIEWER),)),
    "multi": (None, (("RAL", Role.ORG_VIEWER), ("RJ1", Role.ORG_LEAD))),
}


def create_person(
    store: Store,
    username: str,
    national_role: Role | None = None,
    memberships: tuple[tuple[str, Role], ...] = (),
) -> Person:
    """Create one user with PASSWORD (and a TOTP secret when the role needs one)."""
    with store.session() as session:
        _, enrolled = auth.create_user(
            session,
            auth.system_principal("test"),
            username,
            PASSWORD,
            display_name=username.title(),
            national_role=national_role,
            memberships=memberships,
        )
    return Person(username, national_role, memberships, enrolled.secret if enrolled else None)


def create_people(store: Store) -> dict[str, Person]:
    """Create one user per entry of PEOPLE (the organisations they belong to must exist)."""
    return {name: create_person(store, name, *spec) for name, spec in PEOPLE.items()}


def open_session(store: Store, person: Person, now: datetime | None = None) -> tuple[str, str]:
    """Sign ``person`` in through the auth service; return the session cookie and CSRF token.

    One person signing in twice within a TOTP step needs a later ``now`` the second
    time: a code is accepted once.
    """
    moment = now or utcnow()
    with store.session() as session:
        started = auth.sign_in(session, person.username, PASSWORD, now=moment)
        if started.needs_totp:
            assert person.totp_secret, f"{person.username} needs a TOTP secret"
            code = auth.totp_now(person.totp_secret, moment)
            started = auth.complete_totp(session, started.cookie, code, now=moment)
    return started.cookie, started.csrf_token


def signed_in_client(app: FastAPI, cookie: str | None, csrf: str | None) -> httpx.AsyncClient:
    """Return a client of ``app`` carrying the session cookie and its CSRF header."""
    cookies = {SESSION_COOKIE: cookie} if cookie else None
    headers = {CSRF_HEADER: csrf} if csrf else None
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, cookies=cookies, headers=headers
    )


async def run_lifespan(app: FastAPI, between: Callable[[], None]) -> None:
    """Start ``app`` and shut it down as uvicorn does, calling ``between`` while it is up."""
    events = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, str]:
        if sent and sent[-1] == "lifespan.startup.complete":
            between()
        return next(events)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(str(message["type"]))

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"], sent
