"""Block lists served to firewalls: additions, expiry, the allow-list, tokens and ETags."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from bastion import intel
from bastion.audit import Actor
from bastion.core.settings import Settings
from bastion.core.types import Tlp
from bastion.intel import blocklists
from bastion.intel.models import DeviceRow
from bastion.store import Store
from bastion.web import create_app

pytestmark = pytest.mark.anyio
NOW = datetime.now(UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _listing(kind: str, value: str, **extra: object) -> intel.Indicator:
    given: dict[str, object] = {
        "source": "cti",
        "confidence": 90,
        "action": "block",
        "tlp": Tlp.GREEN,
    }
    return intel.Indicator(type=intel.IndicatorType(kind), value=value, **{**given, **extra})  # type: ignore[arg-type]


@pytest.fixture
def app(store: Store, tmp_path: Path) -> FastAPI:
    with store.session() as session:
        intel.save_indicators(session, [
            _listing("ipv4", "198.51.100.1"),
            _listing("cidr", "203.0.113.0/24"),
            _listing("ipv6", "2001:db8::1"),
            _listing("ipv4", "198.51.100.2", action="alert"),  # alert only: not blocked
            _listing("ipv4", "198.51.100.3", confidence=50),  # too unsure
            _listing("ipv4", "198.51.100.4", tlp=Tlp.RED),  # may not leave Bastion
            _listing("ipv4", "198.51.100.5", valid_until=NOW - timedelta(days=1)),  # expired
            _listing("ipv4", "10.20.1.1"),  # inside an allow-listed federation range
            _listing("domain", "evil.example"),
            _listing("domain", "nhs.uk"),  # a parent of an allow-listed domain
            _listing("url", "https://evil.example/login.php"),
        ], actor=Actor.cli("test"))  # fmt: skip
        intel.allow(
            session,
            ["10.20.0.0/16", "digital.nhs.uk"],
            reason="federation",
            now=NOW,
            actor=Actor.cli("test"),
        )
        blocklists.add_policy(session, "firewalls", now=NOW, actor=Actor.cli("test"))
    return create_app(store, Settings(data_dir=tmp_path))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def _device(store: Store, name: str = "fw1") -> str:
    with store.session() as session:
        _, token = blocklists.add_device(
            session, name, "firewalls", now=NOW, actor=Actor.cli("test")
        )
    return token


async def test_lists_hold_only_what_the_policy_allows(
    store: Store, client: httpx.AsyncClient
) -> None:
    auth = {"Authorization": f"Bearer {_device(store)}"}
    ip = await client.get("/blocklists/ip.txt", headers=auth)
    domain = await client.get("/blocklists/domain.txt", headers=auth)
    url = await client.get("/blocklists/url.txt", headers=auth)
    assert ip.status_code == 200
    assert ip.headers["content-type"].startswith("text/plain")
    assert ip.text == "198.51.100.1\n2001:db8::1\n203.0.113.0/24\n"
    assert domain.text == "evil.example\n"
    assert url.text == "evil.example/login.php\n"


async def test_additions_and_expiry_show_up_with_new_etags(
    store: Store, client: httpx.AsyncClient
) -> None:
    auth = {"Authorization": f"Bearer {_device(store)}"}
    first = await client.get("/blocklists/ip.txt", headers=auth)
    same = await client.get(
        "/blocklists/ip.txt", headers={**auth, "If-None-Match": first.headers["ETag"]}
    )
    assert same.status_code == 304
    with store.session() as session:
        intel.save_indicators(session, [_listing("ipv4", "192.0.2.99")], actor=Actor.cli("test"))
        intel.expire_indicator(
            session,
            "ipv4:198.51.100.1",
            reason="takedown confirmed",
            now=NOW,
            actor=Actor.cli("test"),
        )
    changed = await client.get(
        "/blocklists/ip.txt", headers={**auth, "If-None-Match": first.headers["ETag"]}
    )
    assert changed.status_code == 200
    assert "192.0.2.99\n" in changed.text
    assert "198.51.100.1\n" not in changed.text
    assert changed.headers["ETag"] != first.headers["ETag"]


async def test_allow_list_added_later_removes_entries(
    store: Store, client: httpx.AsyncClient
) -> None:
    auth = {"Authorization": f"Bearer {_device(store)}"}
    with store.session() as session:
        intel.allow(
            session,
            ["203.0.113.128/25", "evil.example"],
            reason="false positive",
            now=NOW,
            actor=Actor.cli("test"),
        )
    ip = await client.get("/blocklists/ip.txt", headers=auth)
    domain = await client.get("/blocklists/domain.txt", headers=auth)
    url = await client.get("/blocklists/url.txt", headers=auth)
    assert "203.0.113.0/24" not in ip.text  # the listed network contains an allowed one
    assert domain.text == ""
    assert url.text == ""  # the URL's host is allowed


async def test_tokens_basic_auth_revocation_and_hashing(
    store: Store, client: httpx.AsyncClient
) -> None:
    token = _device(store)
    basic = base64.b64encode(f"paloalto:{token}".encode()).decode()
    assert (
        await client.get("/blocklists/ip.txt", headers={"Authorization": f"Basic {basic}"})
    ).status_code == 200
    assert (await client.get("/blocklists/ip.txt")).status_code == 401
    wrong = await client.get("/blocklists/ip.txt", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert "WWW-Authenticate" in wrong.headers
    with store.session() as session:
        [row] = session.query(DeviceRow).all()
        assert token not in row.token_hash
        assert row.token_hash == blocklists.hash_token(token)
        assert row.last_pull_at is not None
        blocklists.revoke_device(session, "fw1", now=NOW, actor=Actor.cli("test"))
    revoked = await client.get("/blocklists/ip.txt", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401
    assert "revoked" in revoked.text


async def test_unknown_list_is_a_4xx(store: Store, client: httpx.AsyncClient) -> None:
    auth = {"Authorization": f"Bearer {_device(store)}"}
    answer = await client.get("/blocklists/hashes.txt", headers=auth)
    assert answer.status_code == 400
    assert "kind" in answer.text


def test_render_cache_reuses_a_list_until_the_store_changes(store: Store, app: FastAPI) -> None:
    cache = blocklists.RenderCache()
    with store.session() as session:
        [policy] = blocklists.list_policies(session)
        first = cache.get(session, policy, "domain", now=NOW)
        assert cache.get(session, policy, "domain", now=NOW + timedelta(seconds=5)) is first
        intel.expire_indicator(
            session, "domain:evil.example", reason="gone", now=NOW, actor=Actor.cli("test")
        )
        changed = cache.get(session, policy, "domain", now=NOW + timedelta(seconds=6))
        # Time alone (expiry, decay) shows within the cache's lifetime of a minute.
        stale = cache.get(session, policy, "domain", now=NOW + timedelta(minutes=2))
    assert first.text == "evil.example\n"
    assert changed.text == ""
    assert stale is not changed
