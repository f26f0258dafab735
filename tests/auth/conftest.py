"""Fixtures of the auth tests: a store with two organisations, and fast argon2id hashing."""

from __future__ import annotations

import pytest

from bastion import orgs
from bastion.audit import Actor
from bastion.auth import users as auth_users
from bastion.store import Store
from bastion.web.testing import FAST_HASHER


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth_users, "HASHER", FAST_HASHER)


@pytest.fixture
def federation(store: Store) -> Store:
    """The `store` fixture (SQLite and PostgreSQL) with organisations RAL and RJ1."""
    with store.session() as session:
        orgs.save_organisation(
            session,
            orgs.Organisation("RAL", "Royal Free", orgs.OrgType.TRUST),
            actor=Actor.cli("test"),
        )
        orgs.save_organisation(
            session, orgs.Organisation("RJ1", "Guy's", orgs.OrgType.TRUST), actor=Actor.cli("test")
        )
    return store
