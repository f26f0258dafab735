"""Fixtures of the web tests: an app over the `store` fixture, signed-in clients, a small federation.

`client` is signed in as a national administrator (everything allowed), so a
test about a page or route need not think about sign-in; `client_as("lead")`
gives a client signed in as another of `PEOPLE`, and `anonymous_client` one
signed in as nobody. Other contexts' web tests use the same fixtures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from tests.conftest import sqlite_copy

from bastion import orgs
from bastion.audit import Actor
from bastion.auth import users as auth_users
from bastion.core.settings import Settings
from bastion.core.timeutil import utcnow
from bastion.store import Store
from bastion.web import create_app
from bastion.web.testing import (
    FAST_HASHER,
    Person,
    create_people,
    open_session,
    signed_in_client,
)

# Generous in tests: the limits themselves are tested on an app of their own.
TEST_LIMITS = {"signin_limit": (10_000, 60.0), "api_limit": (100_000, 60.0)}


def small_federation() -> list[orgs.Organisation]:
    """A region, an ICB under it, and four members: enough for parents, children and filters."""
    return [
        orgs.Organisation("Y56", "NHS England London", orgs.OrgType.REGION),
        orgs.Organisation("QWE", "NHS South West London ICB", orgs.OrgType.ICB, parent="Y56"),
        orgs.Organisation(
            "RAL",
            "Royal Free London NHS Foundation Trust",
            orgs.OrgType.TRUST,
            parent="QWE",
            networks=("10.20.0.0/16", "2001:db8:20::/48"),
            contacts=(orgs.Contact("Ann Example", "ann.example@royalfree.example", "CISO"),),
            hosts=(orgs.Host("www.royalfree.example", "192.0.2.10", "public website"),),
        ),
        orgs.Organisation(
            "RJ1", "Guy's and St Thomas' NHS Foundation Trust", orgs.OrgType.TRUST, parent="QWE"
        ),
        orgs.Organisation("A81001", "The Densham Surgery", orgs.OrgType.GP_PRACTICE, parent="QWE"),
        orgs.Organisation("RX1", "<script>alert(1)</script> Trust", orgs.OrgType.TRUST),
    ]


def seed(store: Store, organisations: list[orgs.Organisation]) -> None:
    """Save organisations (parents first) through the federation's public functions."""
    with store.session() as session:
        for org in organisations:
            orgs.save_organisation(session, org, actor=Actor.cli("test"))


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth_users, "HASHER", FAST_HASHER)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def seeded_app(store: Store, folder: Path) -> FastAPI:
    """Seed the small federation into ``store`` and return a web app over it.

    A case notification is tried once, not waited on for 1 s and 2 s more: nothing
    listens for its e-mail here, and retries are tested in tests/cases/test_notify.py."""
    seed(store, small_federation())
    settings = Settings(data_dir=folder, cases_notify_attempts=1)
    return create_app(store, settings, **TEST_LIMITS)  # type: ignore[arg-type]


@pytest.fixture
def make_app() -> Callable[[Store, Path], FastAPI]:
    """Return `seeded_app`, for a test that needs an app over a store of its own choosing."""
    return seeded_app


@pytest.fixture
def app(store: Store, tmp_path: Path) -> FastAPI:
    """The web app over the `store` fixture (SQLite and PostgreSQL), with the small federation."""
    return seeded_app(store, tmp_path)


@pytest.fixture
def people(app: FastAPI, store: Store) -> dict[str, Person]:
    """One user per role (see PEOPLE), in the app's store."""
    return create_people(store)


@pytest.fixture
def sessions(people: dict[str, Person], store: Store) -> dict[str, tuple[str, str]]:
    """A signed-in session (cookie, CSRF token) for each of `people`, opened when first asked for."""

    class Sessions(dict[str, tuple[str, str]]):
        def __missing__(self, name: str) -> tuple[str, str]:
            opened = self[name] = open_session(store, people[name])
            return opened

    return Sessions()


ClientAs = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def client_as(app: FastAPI, sessions: dict[str, tuple[str, str]]) -> ClientAs:
    """Return a factory: ``async with client_as("lead") as c`` is a client signed in as lead."""

    @asynccontextmanager
    async def make(name: str) -> AsyncIterator[httpx.AsyncClient]:
        cookie, csrf = sessions[name]
        async with signed_in_client(app, cookie, csrf) as c:
            yield c

    return make


@pytest.fixture
async def client(client_as: ClientAs) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in as a national administrator."""
    async with client_as("admin") as c:
        yield c


@pytest.fixture
async def anonymous_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that has not signed in."""
    async with signed_in_client(app, None, None) as c:
        yield c


@pytest.fixture(scope="module")
def sqlite_app(
    tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path
) -> Iterator[FastAPI]:
    """One app per module on SQLite, for checks that never reach the database or never write.

    Validation, escaping and static assets do not depend on the backend; sharing one
    seeded store keeps those many small cases fast.
    """
    folder = tmp_path_factory.mktemp("web")
    store = sqlite_copy(migrated_sqlite, folder / "bastion.db")
    seed(store, small_federation())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth_users, "HASHER", FAST_HASHER)
        admin = create_people(store)["admin"]
        cookie, csrf = open_session(store, admin)
    app = create_app(store, Settings(data_dir=folder), **TEST_LIMITS)  # type: ignore[arg-type]
    app.state.test_session = (cookie, csrf)
    yield app
    store.dispose()


@pytest.fixture
async def sqlite_client(sqlite_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `sqlite_app` signed in as a national administrator."""
    cookie, csrf = sqlite_app.state.test_session
    async with signed_in_client(sqlite_app, cookie, csrf) as c:
        yield c


def later(minutes: int) -> datetime:
    """Return a moment ``minutes`` from now (a second sign-in needs a fresh TOTP step)."""
    return utcnow() + timedelta(minutes=minutes)
