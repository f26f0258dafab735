"""Fixtures of the web tests: an app over the `store` fixture, a client, and a small federation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from bastion import orgs
from bastion.core.settings import Settings
from bastion.store import Store, upgrade
from bastion.web import create_app

BASE_URL = "http://testserver"


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
            orgs.save_organisation(session, org)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def app(store: Store, tmp_path: Path) -> FastAPI:
    """The web app over the `store` fixture (SQLite and PostgreSQL), with the small federation."""
    seed(store, small_federation())
    return create_app(store, Settings(data_dir=tmp_path))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        yield c


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """One app per module on SQLite, for checks that never reach the database or never write.

    Validation, escaping and static assets do not depend on the backend; sharing one
    seeded store keeps those many small cases fast.
    """
    folder = tmp_path_factory.mktemp("web")
    store = Store.from_url(f"sqlite:///{folder / 'bastion.db'}")
    upgrade(store.engine)
    seed(store, small_federation())
    yield create_app(store, Settings(data_dir=folder))
    store.dispose()


@pytest.fixture
async def sqlite_client(sqlite_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sqlite_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as c:
        yield c
