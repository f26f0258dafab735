"""Fixtures of the security probes: fast password hashing and the asyncio backend."""

from __future__ import annotations

import pytest

from bastion.auth import users as auth_users
from bastion.web.testing import FAST_HASHER


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth_users, "HASHER", FAST_HASHER)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
