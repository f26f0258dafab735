"""OpenID Connect sign-in: optional, configured by environment, never required.

Set ``BASTION_OIDC_ISSUER``, ``BASTION_OIDC_CLIENT_ID`` and
``BASTION_OIDC_CLIENT_SECRET`` (and optionally ``BASTION_OIDC_USERNAME_CLAIM``,
default ``preferred_username``, and ``BASTION_OIDC_LABEL`` for the button) and
the sign-in page offers the identity provider. The flow is the authorisation
code flow with PKCE (S256), ``state`` and ``nonce``; the ID token is checked
against the provider's published keys, issuer, audience, expiry and nonce.

The provider says who someone is, never what they may do: the person must have
a Bastion account of that username, and keeps its roles and organisations.

The flow's ``state``, ``nonce`` and PKCE verifier wait in a short-lived
HttpOnly cookie scoped to the callback path, so any server process can finish a
flow another one started.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from bastion.core.errors import BastionError, ConfigError

ENV = "BASTION_OIDC_"
FLOW_COOKIE = "bastion_oidc"
FLOW_LIFETIME = 600  # seconds between leaving for the provider and coming back
MFA_METHODS = frozenset({"mfa", "otp", "hwk", "swk", "sc", "fpt", "face", "pin"})
_TIMEOUT = httpx.Timeout(10.0)


class OidcFailed(BastionError):
    """The identity provider's answer cannot be trusted or names nobody Bastion knows."""

    http_status = 401


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str
    username_claim: str = "preferred_username"
    label: str = "your organisation's identity service"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> OidcConfig | None:
        """Return the configuration in ``environ``; None when OIDC is not configured."""
        issuer = environ.get(f"{ENV}ISSUER", "").strip().rstrip("/")
        if not issuer:
            return None
        client_id = environ.get(f"{ENV}CLIENT_ID", "").strip()
        secret = environ.get(f"{ENV}CLIENT_SECRET", "")
        if not client_id or not secret:
            msg = f"{ENV}ISSUER is set: set {ENV}CLIENT_ID and {ENV}CLIENT_SECRET too"
            raise ConfigError(msg)
        if not issuer.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            msg = f"{ENV}ISSUER must be an https:// URL (plain http only on localhost), not {issuer!r}"
            raise ConfigError(msg)
        return cls(
            issuer=issuer,
            client_id=client_id,
            client_secret=secret,
            username_claim=environ.get(f"{ENV}USERNAME_CLAIM", "preferred_username").strip(),
            label=environ.get(f"{ENV}LABEL", cls.label).strip() or cls.label,
        )


@dataclass(frozen=True)
class Flow:
    """One sign-in under way: what must come back, and where to go after."""

    state: str
    nonce: str
    verifier: str
    next: str

    def cookie(self) -> str:
        return json.dumps([self.state, self.nonce, self.verifier, self.next])

    @classmethod
    def from_cookie(cls, value: str) -> Flow | None:
        try:
            state, nonce, verifier, next_ = json.loads(value)
        except (ValueError, TypeError, RecursionError):  # the client sends the cookie
            return None
        if not all(isinstance(v, str) for v in (state, nonce, verifier, next_)):
            return None
        return cls(state, nonce, verifier, next_)


@dataclass(frozen=True)
class Identity:
    """Who the provider signed in, and whether it asserted a second factor."""

    username: str
    mfa: bool


class OidcClient:
    """Talk to one identity provider: discovery, authorisation URL, code exchange, ID token."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: tuple[float, KeySet] | None = None

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            # A client per call: sign-ins are rare, and nothing stays open between them.
            with httpx.Client(timeout=_TIMEOUT, follow_redirects=False) as http:
                answer = http.get(url)
            answer.raise_for_status()
            body = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            msg = f"the identity provider's {what} ({url}) could not be read: {exc}"
            raise OidcFailed(msg) from exc
        if not isinstance(body, dict):
            msg = f"the identity provider's {what} ({url}) is not a JSON object"
            raise OidcFailed(msg)
        return body

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata is None:
                url = f"{self.config.issuer}/.well-known/openid-configuration"
                found = self._get_json(url, "discovery document")
                if str(found.get("issuer", "")).rstrip("/") != self.config.issuer:
                    msg = f"the discovery document names issuer {found.get('issuer')!r}, not {self.config.issuer!r}"
                    raise OidcFailed(msg)
                self._metadata = found
            return self._metadata

    def keys(self, *, refresh: bool = False) -> KeySet:
        with self._lock:
            cached = self._keys
        if cached and not refresh and time.monotonic() - cached[0] < 3600:
            return cached[1]
        data = self._get_json(str(self.metadata()["jwks_uri"]), "signing keys")
        try:
            keys = KeySet.import_key_set(data)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError) as exc:
            msg = f"the identity provider's signing keys are not a valid JWK set: {exc}"
            raise OidcFailed(msg) from exc
        with self._lock:
            self._keys = (time.monotonic(), keys)
        return keys

    def start(self, redirect_uri: str, next: str) -> tuple[str, Flow]:
        """Return the provider's authorisation URL and the flow to remember."""
        flow = Flow(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            verifier=secrets.token_urlsafe(48),
            next=next,
        )
        params = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid profile email",
            "state": flow.state,
            "nonce": flow.nonce,
            "code_challenge": create_s256_code_challenge(flow.verifier),
            "code_challenge_method": "S256",
        }
        endpoint = str(self.metadata()["authorization_endpoint"])
        separator = "&" if "?" in endpoint else "?"
        return f"{endpoint}{separator}{urlencode(params)}", flow

    def finish(self, flow: Flow, code: str, state: str, redirect_uri: str) -> Identity:
        """Exchange the code and check the ID token; return who it names."""
        if not secrets.compare_digest(flow.state.encode(), state.encode()):
            msg = "the sign-in came back with another state: start again from the sign-in page"
            raise OidcFailed(msg)
        endpoint = str(self.metadata()["token_endpoint"])
        try:
            with httpx.Client(timeout=_TIMEOUT, follow_redirects=False) as http:
                answer = http.post(
                    endpoint,
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": redirect_uri,
                        "code_verifier": flow.verifier,
                    },
                    auth=(self.config.client_id, self.config.client_secret),
                )
            answer.raise_for_status()
            id_token = answer.json().get("id_token")
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            msg = f"the identity provider refused the code: {exc}"
            raise OidcFailed(msg) from exc
        if not isinstance(id_token, str):
            msg = "the identity provider answered without an ID token"
            raise OidcFailed(msg)
        claims = self._verify(id_token, flow.nonce)
        username = claims.get(self.config.username_claim)
        if not isinstance(username, str) or not username.strip():
            msg = f"the ID token carries no {self.config.username_claim!r} claim"
            raise OidcFailed(msg)
        methods = claims.get("amr") or []
        mfa = isinstance(methods, list) and bool(MFA_METHODS & {str(m) for m in methods})
        return Identity(username=username.strip(), mfa=mfa)

    def _verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.config.issuer},
            aud={"essential": True, "value": self.config.client_id},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        for refresh in (False, True):  # a key not seen yet: the provider rotated; fetch again
            try:
                token = jwt.decode(
                    id_token, self.keys(refresh=refresh), algorithms=["RS256", "ES256"]
                )
                registry.validate(token.claims)
                return dict(token.claims)
            except JoseError as exc:
                failure = exc
        msg = f"the ID token does not verify: {failure}"
        raise OidcFailed(msg)
