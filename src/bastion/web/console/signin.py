"""Signing in and out of the console: password, then the TOTP code, then the page wanted.

These pages are outside ``PROTECTED`` (nobody is signed in yet), so each form
is protected by its own CSRF token: a random value in a SameSite=Strict cookie
that the form must repeat, and after the password, the pending session's token.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bastion import auth
from bastion.auth import Principal, PrincipalKind
from bastion.auth.signin import SESSION_LIFETIME
from bastion.core.errors import PermissionDenied
from bastion.web.auth import (
    PRE_COOKIE,
    PROTECTED,
    SESSION_COOKIE,
    CsrfFailed,
    PrincipalDep,
    behind_tls,
    clear_session_cookie,
    client_ip,
    set_session_cookie,
)
from bastion.web.deps import SessionDep, TemplatesDep
from bastion.web.security import RateLimiter

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
signed_in = APIRouter(include_in_schema=False, dependencies=PROTECTED)

Text = Annotated[str, Form(max_length=1024)]
Next = Annotated[str, Form(max_length=2000)]


def safe_next(value: str) -> str:
    """Return ``value`` if it is a path on this site, else the overview (no open redirects)."""
    if value.startswith("/") and not value.startswith(("//", "/\\")) and "\n" not in value:
        return value
    return "/overview"


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.signin_limiter
    return limiter


def _count_attempt(request: Request) -> str:
    """Count a sign-in attempt against its caller's address (refused past the limit); return it."""
    ip = client_ip(request)
    _limiter(request).hit(f"signin:{ip}", "sign-in attempts from this address")
    return ip


def _check_form(expected: str, given: str) -> None:
    """Refuse a sign-in form whose token is not the one this browser was given."""
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        msg = "the sign-in form expired: reload the page and try again"
        raise CsrfFailed(msg)


def _pre_token(request: Request) -> str:
    return request.cookies.get(PRE_COOKIE, "") or secrets.token_urlsafe(32)


def _with_pre_cookie(request: Request, response: Response, token: str) -> Response:
    response.set_cookie(
        PRE_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=behind_tls(request),
        path="/signin",
    )
    return response


def _page(
    request: Request,
    templates: TemplatesDep,
    name: str,
    *,
    next: str,
    csrf: str,
    error: str | None = None,
    status: int = 200,
) -> Response:
    response = templates.TemplateResponse(
        request,
        name,
        {
            "section": "",
            "next": safe_next(next),
            "csrf": csrf,
            "error": error,
            "oidc": request.app.state.oidc.config.label if request.app.state.oidc else None,
        },
        status_code=status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/signin", name="signin_page")
def signin_page(request: Request, templates: TemplatesDep, next: str = "/overview") -> Response:
    """Show the sign-in form."""
    token = _pre_token(request)
    page = _page(request, templates, "signin/password.html", next=next[:2000], csrf=token)
    return _with_pre_cookie(request, page, token)


@router.post("/signin", name="signin_submit")
def signin_submit(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    username: Annotated[str, Form(max_length=64)],
    password: Text,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Next = "/overview",
) -> Response:
    """Check the username and password; continue to the code, or to the page wanted."""
    ip = _count_attempt(request)
    expected = request.cookies.get(PRE_COOKIE, "")
    _check_form(expected, csrf_token)
    agent = request.headers.get("user-agent", "")
    try:
        started = auth.sign_in(session, username, password, ip=ip, user_agent=agent)
    except auth.SignInFailed as exc:
        session.commit()  # the failed attempt counts towards the lockout
        return _with_pre_cookie(
            request,
            _page(
                request,
                templates,
                "signin/password.html",
                next=next,
                csrf=expected,
                error=str(exc),
                status=401,
            ),
            expected,
        )
    target = (
        f"{request.url_for('totp_page').path}?next={safe_next(next)}"
        if started.needs_totp
        else safe_next(next)
    )
    response = RedirectResponse(target, status_code=303)
    lifetime = 300 if started.needs_totp else int(SESSION_LIFETIME.total_seconds())
    set_session_cookie(request, response, started.cookie, lifetime)
    return response


@router.get("/signin/totp", name="totp_page")
def totp_page(
    request: Request, session: SessionDep, templates: TemplatesDep, next: str = "/overview"
) -> Response:
    """Ask for the authenticator's code after a good password."""
    pending = auth.find_session(session, request.cookies.get(SESSION_COOKIE, ""))
    if pending is None or pending.stage != "totp":
        return RedirectResponse(request.url_for("signin_page").path, status_code=303)
    return _page(request, templates, "signin/totp.html", next=next[:2000], csrf=pending.csrf_token)


@router.post("/signin/totp", name="totp_submit")
def totp_submit(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    code: Annotated[str, Form(max_length=16)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Next = "/overview",
) -> Response:
    """Check the code; replace the pending session with a signed-in one."""
    ip = _count_attempt(request)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    pending = auth.find_session(session, cookie)
    if pending is None or pending.stage != "totp":
        return RedirectResponse(request.url_for("signin_page").path, status_code=303)
    _check_form(pending.csrf_token, csrf_token)
    agent = request.headers.get("user-agent", "")
    try:
        started = auth.complete_totp(session, cookie, code, ip=ip, user_agent=agent)
    except auth.SignInFailed as exc:
        session.commit()
        return _page(
            request,
            templates,
            "signin/totp.html",
            next=next,
            csrf=pending.csrf_token,
            error=str(exc),
            status=401,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, response, started.cookie, int(SESSION_LIFETIME.total_seconds()))
    return response


def _person_only(principal: Principal) -> None:
    # A token has no session to end; its id must never be taken for a user's.
    if principal.kind is not PrincipalKind.USER:
        msg = "only a signed-in person can sign out; revoke a token with `bastion tokens revoke`"
        raise PermissionDenied(msg)


@signed_in.post("/signout", name="signout")
def signout(request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    """End this session."""
    _person_only(principal)
    auth.sign_out(session, request.cookies.get(SESSION_COOKIE, ""), principal)
    response = RedirectResponse(request.url_for("signin_page").path, status_code=303)
    clear_session_cookie(request, response)
    return response


@signed_in.post("/signout/everywhere", name="signout_everywhere")
def signout_everywhere(request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    """End every session of the signed-in person, on every device."""
    _person_only(principal)
    auth.sign_out_everywhere(session, principal)
    response = RedirectResponse(request.url_for("signin_page").path, status_code=303)
    clear_session_cookie(request, response)
    return response


__all__ = ["router", "signed_in"]
