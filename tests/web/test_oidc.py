"""OpenID Connect sign-in against a tiny local identity provider (started by the test)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from tests.web.browsing import free_port, serving

from bastion.core.errors import ConfigError
from bastion.core.settings import Settings
from bastion.store import Store
from bastion.web import create_app
from bastion.web.oidc import FLOW_COOKIE, OidcConfig
from bastion.web.testing import Person, signed_in_client

pytestmark = pytest.mark.anyio


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    """These checks do not depend on the database: SQLite only (tests/auth runs both backends)."""
    return sqlite_store


CLIENT_ID, CLIENT_SECRET = "bastion", "s3cret-of-the-client"


class Provider:
    """A minimal OIDC provider: discovery, authorise (no login page), token, keys."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.signing_key = self.key
        self.username = "lead"
        self.amr: list[str] = ["pwd"]
        self.codes: dict[str, dict[str, str]] = {}
        self.issuer = ""

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/jwks", self.jwks),
            ]
        )

    async def discovery(self, _request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
            }
        )

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        assert params["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.codes[code] = params
        query = urlencode({"code": code, "state": params["state"]})
        return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=302)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        params = self.codes.pop(str(form["code"]), None)
        if params is None:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        digest = hashlib.sha256(str(form["code_verifier"]).encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != params["code_challenge"]:
            return JSONResponse({"error": "invalid_grant", "why": "pkce"}, status_code=400)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "u-1",
            "iat": now,
            "exp": now + 300,
            "nonce": params["nonce"],
            "preferred_username": self.username,
            "amr": self.amr,
        }
        token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.signing_key)
        return JSONResponse({"access_token": "x", "token_type": "Bearer", "id_token": token})

    async def jwks(self, _request: Request) -> Response:
        return JSONResponse(KeySet([self.key]).as_dict(private=False))


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    found = Provider()
    port = free_port()
    found.issuer = f"http://127.0.0.1:{port}"
    with serving(found.app(), port):
        yield found


@pytest.fixture
def oidc_app(
    store: Store, tmp_path: Path, app: FastAPI, provider: Provider, people: dict[str, Person]
) -> FastAPI:
    """The web app (small federation, PEOPLE) with the local provider configured."""
    config = OidcConfig(issuer=provider.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    provider.username, provider.amr, provider.signing_key = "lead", ["pwd"], provider.key
    return create_app(store, Settings(data_dir=tmp_path), oidc=config)


async def round_trip(
    app: FastAPI, next: str = "/orgs/RAL", state: str | None = None
) -> tuple[httpx.AsyncClient, httpx.Response]:
    client = signed_in_client(app, None, None)
    page = await client.get("/signin")
    assert 'id="signin-oidc"' in page.text
    start = await client.get("/signin/oidc", params={"next": next})
    assert start.status_code == 303
    assert FLOW_COOKIE in start.headers["set-cookie"]
    with httpx.Client() as browser:
        back = browser.get(start.headers["location"])
    assert back.status_code == 302
    callback = urlsplit(back.headers["location"])
    query = parse_qs(callback.query)
    if state is not None:
        query["state"] = [state]
    answer = await client.get(callback.path, params={k: v[0] for k, v in query.items()})
    return client, answer


async def test_member_signs_in_through_the_provider(oidc_app: FastAPI) -> None:
    client, answer = await round_trip(oidc_app)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/orgs/RAL"
    assert (await client.get("/orgs/RAL")).status_code == 200
    assert (await client.get("/orgs/RJ1")).status_code == 404  # still its own organisation only
    await client.aclose()


async def test_national_role_without_provider_mfa_still_needs_its_totp(
    oidc_app: FastAPI, provider: Provider
) -> None:
    provider.username = "analyst"
    client, answer = await round_trip(oidc_app, next="/overview")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/signin/totp")
    assert (await client.get("/overview")).status_code == 303  # not signed in yet
    await client.aclose()
    provider.amr = ["pwd", "mfa"]
    client, answer = await round_trip(oidc_app, next="/overview")
    assert answer.headers["location"] == "/overview"
    assert (await client.get("/overview")).status_code == 200
    await client.aclose()


async def test_unknown_people_forged_state_and_foreign_keys_are_refused(
    oidc_app: FastAPI, provider: Provider
) -> None:
    provider.username = "stranger"
    client, answer = await round_trip(oidc_app)
    await client.aclose()
    assert answer.status_code == 401
    assert "no active Bastion account" in answer.text
    provider.username = "lead"
    client, answer = await round_trip(oidc_app, state="forged")
    await client.aclose()
    assert answer.status_code == 401
    assert "another state" in answer.text
    provider.signing_key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    client, answer = await round_trip(oidc_app)
    await client.aclose()
    assert answer.status_code == 401
    assert "does not verify" in answer.text


async def test_without_configuration_there_is_no_provider(
    client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient
) -> None:
    assert 'id="signin-oidc"' not in (await anonymous_client.get("/signin")).text
    assert (await anonymous_client.get("/signin/oidc")).status_code == 404


def test_configuration_from_the_environment() -> None:
    assert OidcConfig.from_env({}) is None
    found = OidcConfig.from_env(
        {
            "BASTION_OIDC_ISSUER": "https://login.example/",
            "BASTION_OIDC_CLIENT_ID": "c",
            "BASTION_OIDC_CLIENT_SECRET": "s",
        }
    )
    assert found is not None
    assert found.issuer == "https://login.example"
    with pytest.raises(ConfigError, match="CLIENT_ID"):
        OidcConfig.from_env({"BASTION_OIDC_ISSUER": "https://login.example"})
    with pytest.raises(ConfigError, match="https"):
        OidcConfig.from_env(
            {
                "BASTION_OIDC_ISSUER": "http://login.example",
                "BASTION_OIDC_CLIENT_ID": "c",
                "BASTION_OIDC_CLIENT_SECRET": "s",
            }
        )
