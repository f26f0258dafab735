"""Uptime's fixtures: a store with three organisations, a NATS stream of each test's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.conftest import own_stream

from bastion.audit import Actor
from bastion.orgs import Contact, Organisation, OrgType, save_organisation
from bastion.store import Store
from bastion.uptime import bus

ORGS = ("RAL", "RJ1", "A81001")


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    with sqlite_store.session() as session:
        for code in ORGS:
            save_organisation(
                session,
                Organisation(code, f"Org {code}", OrgType.TRUST,
                             contacts=(Contact("Duty", f"duty@{code.lower()}.nhs.test"),)),
                actor=Actor.cli("test"),
            )  # fmt: skip
    return sqlite_store


@pytest.fixture
def uptime_stream(monkeypatch: pytest.MonkeyPatch, nats_url: str) -> Iterator[str]:
    """A results stream, subjects and consumer of this test's own, deleted afterwards."""
    yield from own_stream(monkeypatch, nats_url, bus, "BASTION_UPTIME_TEST", "centre")
