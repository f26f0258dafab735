"""Signing in and out of the console: password, then the TOTP code, then the page wanted.

These pages are outside ``PROTECTED`` (nobody is signed in yet), so each form
is protected by its own CSRF token: a random value in a SameSite=Strict cookie
that the form must repeat, and after the password, the pending session's token.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from bastion import auth
from bastion.auth import Principal, PrincipalKind
from bastion.auth.signin import SESSION_LIFETIME
from bastion.core.errors import PermissionDenied
from bastion.web.auth import (
    PRE_COOKIE,
    PROTECTED,
    SESSION_COOKIE,
    CsrfFailed,
    behind_tls,
    clear_session_cookie,
    client_ip,
    set_session_cookie,
)
from bastion.web.console.view import View, see_other
from bastion.web.deps import SessionDep, TemplatesDep
from bastion.web.security import RateLimiter

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
signed_in = APIRouter(include_in_schema=False, dependencies=PROTECTED)
SignedIn = Annotated[View, Depends(View.of(""))]

PASSWORD_FORM = "signin/password.html"
TOTP_FORM = "signin/totp.html"
Text = Annotated[str, Form(max_length=1024)]
Next = Annotated[str, Form(max_length=2000)]


def safe_next(value: str) -> str:
    """Return ``value`` if it is a path on this site, else the overview (no open redirects)."""
    if value.startswith("/") and not value.startswith(("//", "/\\")) and "\n" not in value:
        return value
    return "/overview"


def continue_signed_in(request: Request, started: auth.StartedSession, next: str) -> Response:
    """Go on after a good password or provider: to the code when one must follow, else to
    ``next`` (a safe path), with the new session's cookie."""
    if started.needs_totp:
        target, lifetime = f"{request.url_for('totp_page').path}?next={next}", 300
    else:
        target, lifetime = next, int(SESSION_LIFETIME.total_seconds())
    response = see_other(target)
    set_session_cookie(request, response, started.cookie, lifetime)
    return response


def _pending(request: Request, session: SessionDep) -> auth.ActiveSession | None:
    """Return this browser's session waiting for its TOTP code, if it has one."""
    pending = auth.find_session(session, request.cookies.get(SESSION_COOKIE, ""))
    return pending if pending is not None and pending.stage == "totp" else None


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
    error: auth.SignInFailed | None = None,
) -> Response:
    """Show a sign-in form (again, refused with 401, after an ``error``), never cached."""
    response = templates.TemplateResponse(
        request,
        name,
        {
            "section": "",
            "next": safe_next(next),
            "csrf": csrf,
            "error": None if error is None else str(error),
            "oidc": request.app.state.oidc.config.label if request.app.state.oidc else None,
        },
        status_code=200 if error is None else 401,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/signin", name="signin_page")
def signin_page(request: Request, templates: TemplatesDep, next: str = "/overview") -> Response:
    """Show the sign-in form."""
    token = _pre_token(request)
    page = _page(request, templates, PASSWORD_FORM, next=next[:2000], csrf=token)
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
        page = _page(request, templates, PASSWORD_FORM, next=next, csrf=expected, error=exc)
        return _with_pre_cookie(request, page, expected)
    return continue_signed_in(request, started, safe_next(next))


@router.get("/signin/totp", name="totp_page")
def totp_page(
    request: Request, session: SessionDep, templates: TemplatesDep, next: str = "/overview"
) -> Response:
    """Ask for the authenticator's code after a good password."""
    pending = _pending(request, session)
    if pending is None:
        return see_other(request.url_for("signin_page").path)
    return _page(request, templates, TOTP_FORM, next=next[:2000], csrf=pending.csrf_token)


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
    pending = _pending(request, session)
    if pending is None:
        return see_other(request.url_for("signin_page").path)
    _check_form(pending.csrf_token, csrf_token)
    agent = request.headers.get("user-agent", "")
    cookie = request.cookies.get(SESSION_COOKIE, "")
    try:
        started = auth.complete_totp(session, cookie, code, ip=ip, user_agent=agent)
    except auth.SignInFailed as exc:
        session.commit()
        return _page(request, templates, TOTP_FORM, next=next, csrf=pending.csrf_token, error=exc)
    return continue_signed_in(request, started, safe_next(next))


def _person(view: View) -> Principal:
    """Return the signed-in person (a token has no session to end: 403)."""
    # A token's id must never be taken for a user's.
    if view.principal.kind is not PrincipalKind.USER:
        msg = "only a signed-in person can sign out; revoke a token with `bastion tokens revoke`"
        raise PermissionDenied(msg)
    return view.principal


def _signed_out(view: View) -> Response:
    """Send the browser back to the sign-in page, without its session cookie."""
    response = view.redirect("signin_page")
    clear_session_cookie(view.request, response)
    return response


@signed_in.post("/signout", name="signout")
def signout(view: SignedIn) -> Response:
    """End this session."""
    auth.sign_out(view.session, view.request.cookies.get(SESSION_COOKIE, ""), _person(view))
    return _signed_out(view)


@signed_in.post("/signout/everywhere", name="signout_everywhere")
def signout_everywhere(view: SignedIn) -> Response:
    """End every session of the signed-in person, on every device."""
    auth.sign_out_everywhere(view.session, _person(view))
    return _signed_out(view)


__all__ = ["router", "signed_in"]
