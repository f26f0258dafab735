"""Who is calling, and what they may see: the dependencies every protected route takes.

Routers that need a signed-in caller include ``PROTECTED`` in their
dependencies (the API and the console do; /health, /static, /blocklists and
the sign-in pages do not). A route then asks for what it uses:

* ``PrincipalDep`` — the caller (a person's session or an API token);
* ``ScopeDep`` — the organisations the caller may see; pass it to every
  data-access function, which applies it in SQL;
* ``require("orgs:write")`` — a dependency that answers 403 without it.

Sessions travel in an HttpOnly, SameSite=Lax cookie (Secure behind TLS); a
state-changing request made with the cookie must carry the session's CSRF
token (form field ``csrf_token`` or header ``X-CSRF-Token``). A request with
``Authorization: Bearer <token>`` carries no cookie, so needs no CSRF token.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response

from bastion import auth
from bastion.auth import Principal, Scope
from bastion.core.errors import BastionError, PermissionDenied
from bastion.web.deps import SessionDep

SESSION_COOKIE = "bastion_session"
PRE_COOKIE = "bastion_pre"  # CSRF token of the sign-in forms, before any session exists
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInRequired(BastionError):
    """The request carries no valid session or token (the console sends people to sign in)."""

    http_status = 401


class CsrfFailed(BastionError):
    """A state-changing request made with the session cookie lacks the session's CSRF token."""

    http_status = 403


def client_ip(request: Request) -> str:
    """Return the caller's address: the peer's, or the one a trusted proxy forwarded.

    ``create_app`` applies ``X-Forwarded-For`` only from ``settings.trusted_proxies``.
    """
    return request.client.host if request.client else ""


def behind_tls(request: Request) -> bool:
    """Tell whether the request came over HTTPS (directly or via a trusted proxy)."""
    return request.url.scheme == "https"


def current_principal(request: Request, session: SessionDep) -> Principal:
    """Return the caller: an API token (``Authorization: Bearer``) or a signed-in session."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    ip = client_ip(request)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        found = (
            auth.find_token(session, value.strip(), ip=ip) if scheme.lower() == "bearer" else None
        )
        if found is None:
            msg = "invalid, expired or revoked API token (send Authorization: Bearer bst_...)"
            raise SignInRequired(msg)
        request.state.csrf_token = None
        request.state.principal = found
        return found
    cookie = request.cookies.get(SESSION_COOKIE, "")
    cache: auth.PrincipalCache = request.app.state.principals
    active = auth.check_session(session, cookie, cache, ip=ip) if cookie else None
    if active is None or active.stage != "full":
        msg = "sign in first (a session cookie, or an API token in Authorization: Bearer)"
        raise SignInRequired(msg)
    request.state.csrf_token = active.csrf_token
    request.state.principal = active.principal
    return active.principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def current_scope(principal: PrincipalDep) -> Scope:
    """Return the organisations the caller may see (national: all of them)."""
    return principal.scope


ScopeDep = Annotated[Scope, Depends(current_scope)]


async def csrf_protect(request: Request, principal: PrincipalDep) -> None:
    """Refuse a state-changing request made with the cookie unless it carries the CSRF token."""
    expected: str | None = getattr(request.state, "csrf_token", None)
    if request.method in SAFE_METHODS or expected is None:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        msg = "missing or wrong CSRF token: reload the page and try again"
        raise CsrfFailed(msg)


# What a router includes to be signed-in only: ``csrf_protect`` takes the caller, so a
# request without one is refused first (one dependency: FastAPI walks each one's tree).
PROTECTED: list[Any] = [Depends(csrf_protect)]


def require(permission: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Return a dependency that answers 403 unless the caller holds ``permission`` somewhere."""

    async def check(principal: PrincipalDep) -> Principal:  # no thread hop: it reads no store
        principal.require(permission)
        return principal

    check.__name__ = f"require_{permission.replace(':', '_')}"
    return check


def require_national(permission: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Return a dependency that answers 403 unless the caller holds ``permission`` nationally."""

    async def check(principal: PrincipalDep) -> Principal:  # no thread hop: it reads no store
        if not principal.can_nationally(permission):
            msg = f"{principal.actor} may not {permission.replace(':', ' ')} nationally"
            raise PermissionDenied(
                msg, permission=permission, national=True, caller=principal.actor
            )
        return principal

    check.__name__ = f"require_national_{permission.replace(':', '_')}"
    return check


def set_session_cookie(request: Request, response: Response, value: str, max_age: int) -> None:
    """Set the session cookie: HttpOnly, SameSite=Lax, Secure behind TLS, whole site."""
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=behind_tls(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=behind_tls(request), path="/"
    )


def sign_in_location(request: Request) -> str:
    """Return where to send someone who must sign in, remembering the page they wanted."""
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    base = request.url_for("signin_page").path
    return f"{base}?next={quote(wanted, safe='')}"
