"""Forged X-Forwarded-For: believed only from the proxies named in ``trusted_proxies``.

Each probe signs in through an ``httpx.ASGITransport`` whose peer address is set,
as a client connecting straight to ``bastion serve`` or through a proxy would be.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bastion import audit, auth, orgs
from bastion.audit import Actor
from bastion.cli.web import uvicorn_options
from bastion.core.errors import ConfigError
from bastion.core.settings import Settings, load_settings
from bastion.store import Store
from bastion.web import create_app
from bastion.web.testing import PASSWORD, create_person

pytestmark = pytest.mark.anyio

ATTACKER = "203.0.113.7"  # connects straight to the server
PROXY = "10.0.0.5"  # the reverse proxy in front of it
LIMIT = 3  # sign-in attempts per address per minute in these apps

TEST = Actor.cli("test")


def make_app(store: Store, folder: Path, trusted: list[str]) -> FastAPI:
    with store.session() as session:
        orgs.save_organisation(
            session, orgs.Organisation("RAL", "Royal Free", orgs.OrgType.TRUST), actor=TEST
        )
    create_person(store, "lead", None, (("RAL", auth.Role.ORG_LEAD),))
    settings = Settings(data_dir=folder, trusted_proxies=trusted)
    return create_app(store, settings, signin_limit=(LIMIT, 60.0), api_limit=(1000, 60.0))


def client(app: FastAPI, peer: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def sign_in(c: httpx.AsyncClient, password: str, forwarded: str) -> int:
    page = await c.get("/signin")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "no CSRF token on the sign-in page"
    data = {"username": "lead", "password": password, "csrf_token": found.group(1)}
    answer = await c.post("/signin", data=data, headers={"X-Forwarded-For": forwarded})
    return answer.status_code


def audited_addresses(store: Store, action: str) -> list[str]:
    with store.session() as session:
        events, _ = audit.list_events(session, action=action)
        return [event.actor_ip for event in events if event.action == action]


async def test_forged_forwarded_for_is_ignored_without_trusted_proxies(
    sqlite_store: Store, tmp_path: Path
) -> None:
    app = make_app(sqlite_store, tmp_path, trusted=[])
    async with client(app, ATTACKER) as c:
        codes = [await sign_in(c, "wrong", f"198.51.100.{n}") for n in range(LIMIT + 2)]
    # Every attempt counts against the attacker's own address, whatever it claims.
    assert codes == [401] * LIMIT + [429, 429]


async def test_forged_forwarded_for_is_not_audited_without_trusted_proxies(
    sqlite_store: Store, tmp_path: Path
) -> None:
    app = make_app(sqlite_store, tmp_path, trusted=[])
    async with client(app, ATTACKER) as c:
        assert await sign_in(c, PASSWORD, "198.51.100.9") == 303
    assert audited_addresses(sqlite_store, "user.sign_in") == [ATTACKER]


async def test_forged_forwarded_proto_does_not_claim_tls(
    sqlite_store: Store, tmp_path: Path
) -> None:
    app = make_app(sqlite_store, tmp_path, trusted=[])
    async with client(app, ATTACKER) as c:
        answer = await c.get("/health", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in answer.headers


async def test_a_trusted_proxy_names_the_client(sqlite_store: Store, tmp_path: Path) -> None:
    app = make_app(sqlite_store, tmp_path, trusted=["10.0.0.0/24"])
    async with client(app, PROXY) as c:
        # Each forwarded client has a limit of its own ...
        spread = [await sign_in(c, "wrong", f"198.51.100.{n}") for n in range(LIMIT + 2)]
        # ... and one client is limited, however many proxies it came through.
        same = [await sign_in(c, "wrong", "192.0.2.44, 10.0.0.7") for _ in range(LIMIT + 1)]
    assert spread == [401] * (LIMIT + 2)
    assert same == [401] * LIMIT + [429]


async def test_a_trusted_proxy_forwarded_address_is_audited(
    sqlite_store: Store, tmp_path: Path
) -> None:
    app = make_app(sqlite_store, tmp_path, trusted=["10.0.0.5"])
    async with client(app, PROXY) as c:
        # The proxy appends the peer it saw; what the client itself claimed comes first.
        assert await sign_in(c, PASSWORD, "1.2.3.4, 198.51.100.9") == 303
        answer = await c.get("/health", headers={"X-Forwarded-Proto": "https"})
    assert audited_addresses(sqlite_store, "user.sign_in") == ["198.51.100.9"]
    assert "strict-transport-security" in answer.headers


async def test_an_untrusted_peer_is_not_believed_when_a_proxy_is_named(
    sqlite_store: Store, tmp_path: Path
) -> None:
    app = make_app(sqlite_store, tmp_path, trusted=["10.0.0.5"])
    async with client(app, ATTACKER) as c:
        assert await sign_in(c, PASSWORD, "10.0.0.5") == 303
    assert audited_addresses(sqlite_store, "user.sign_in") == [ATTACKER]


def test_serve_runs_uvicorn_without_its_own_proxy_handling() -> None:
    options: dict[str, Any] = uvicorn_options("127.0.0.1", 8000)
    assert options["proxy_headers"] is False

    async def bare(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("never called")

    config = uvicorn.Config(bare, **options)
    config.load()
    assert not isinstance(config.loaded_app, ProxyHeadersMiddleware)


def test_trusted_proxies_are_addresses_from_the_environment(tmp_path: Path) -> None:
    environ = {"BASTION_CONFIG": str(tmp_path / "n.toml"), "BASTION_TRUSTED_PROXIES": ""}
    assert load_settings(environ=environ).trusted_proxies == []
    environ["BASTION_TRUSTED_PROXIES"] = "10.0.0.5, 2001:db8::/64"
    assert load_settings(environ=environ).trusted_proxies == ["10.0.0.5/32", "2001:db8::/64"]
    environ["BASTION_TRUSTED_PROXIES"] = "*"
    with pytest.raises(ConfigError, match="trusted_proxies"):
        load_settings(environ=environ)


async def test_serve_sends_at_once_on_every_connection() -> None:
    """Nagle's algorithm is off on accepted connections (else keep-alive requests wait 40 ms)."""
    import asyncio
    import socket

    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import ServerState

    async def bare(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("never called")

    options: dict[str, Any] = uvicorn_options("127.0.0.1", 8000)
    config = uvicorn.Config(bare, **options)
    config.load()
    found: dict[str, int] = {}

    async def nodelay_of(protocol: type[HttpToolsProtocol]) -> int:
        class Probe(protocol):  # type: ignore[valid-type,misc]
            def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
                super().connection_made(transport)
                sock = transport.get_extra_info("socket")
                found[protocol.__name__] = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # protocol 0, as uvicorn's
        listener.bind(("127.0.0.1", 0))
        server = await asyncio.get_running_loop().create_server(
            lambda: Probe(config=config, server_state=ServerState(), app_state={}), sock=listener
        )
        _, writer = await asyncio.open_connection(*listener.getsockname())
        for _ in range(100):
            if protocol.__name__ in found:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()
        return found[protocol.__name__]

    assert config.http_protocol_class.__name__ == "NoDelayHttpToolsProtocol"
    assert await nodelay_of(config.http_protocol_class) == 1
    assert await nodelay_of(HttpToolsProtocol) == 0  # what uvicorn's own protocol leaves
