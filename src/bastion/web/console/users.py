"""The console's user page and the edits a national administrator makes there.

What ``bastion users`` does from the command line: change the national role, grant
and revoke organisation memberships, disable and enable, reset the TOTP second
factor, sign the user out everywhere. Each edit is a form with the session's CSRF
token and goes to the audit trail with the user before and after (``bastion.auth``).
Members never reach these pages: they answer 403, as the user list does.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.templating import Jinja2Templates

from bastion import audit, auth
from bastion.core.errors import ConflictError, InputError, Location
from bastion.web.auth import PrincipalDep, require_national
from bastion.web.deps import PRINTABLE, SessionDep, TemplatesDep

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

Username = Annotated[str, Path(min_length=1, max_length=64, pattern=PRINTABLE)]
OrgField = Annotated[str, Form(min_length=1, max_length=16, pattern=PRINTABLE)]
WRITE = [Depends(require_national("users:write"))]
# A destructive edit happens only with confirm=yes: the page's own form asks inline (a
# <details> box, no script needed), and any other post gets a page asking first.
Confirm = Annotated[str, Form(max_length=8)]
CONSEQUENCES = {
    "disable": "They are signed out everywhere and cannot sign in until enabled again.",
    "reset": "Their authenticator stops working at once and they are signed out everywhere; "
    "you will be shown the new secret once, to give them.",
}
HISTORY = 20  # audit events shown on the page


def _page(
    request: Request,
    session: Session,
    templates: Jinja2Templates,
    username: str,
    *,
    enrolment: auth.Enrolment | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    user = auth.get_user(session, username)
    history, _ = audit.list_events(session, target=f"user:{user.username}", limit=HISTORY)
    context: dict[str, Any] = {
        "section": "users",
        "user": user,
        "national_roles": sorted(auth.NATIONAL_ROLES),
        "member_roles": [auth.Role.ORG_LEAD, auth.Role.ORG_VIEWER],
        "history": history,
        "enrolment": enrolment,
        "consequences": CONSEQUENCES,
    }
    response = templates.TemplateResponse(
        request, "admin/user.html", context, status_code=status_code
    )
    if enrolment is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


def _confirm(
    request: Request,
    templates: Jinja2Templates,
    username: str,
    what: str,
    fields: dict[str, str],
) -> HTMLResponse:
    """Ask before a destructive edit: a page whose form posts it again with confirm=yes."""
    route = "user_status" if what == "disable" else "user_reset_totp"
    return templates.TemplateResponse(
        request,
        "admin/confirm.html",
        {
            "section": "users",
            "username": username.strip().lower(),
            "action": request.url_for(route, username=username.strip().lower()).path,
            "question": (
                f"Disable {username}?"
                if what == "disable"
                else f"Reset {username}'s second factor?"
            ),
            "consequence": CONSEQUENCES[what],
            "button": "Disable" if what == "disable" else "Reset second factor",
            "fields": fields,
        },
    )


def _back(request: Request, username: str) -> RedirectResponse:
    return RedirectResponse(
        request.url_for("user_page", username=username.strip().lower()).path, status_code=303
    )


def _not_yourself(principal: auth.Principal, username: str, what: str) -> None:
    """Refuse an edit that would lock the administrator making it out of administration."""
    if principal.kind is auth.PrincipalKind.USER and principal.name == username.strip().lower():
        msg = f"you may not {what} yourself: ask another national administrator"
        raise ConflictError(msg)


@router.get(
    "/users/{username}",
    name="user_page",
    dependencies=[Depends(require_national("users:read"))],
)
def user_page(
    request: Request, username: Username, session: SessionDep, templates: TemplatesDep
) -> HTMLResponse:
    """Show a user: roles, memberships, second factor, state, recent changes, and the edit forms."""
    return _page(request, session, templates, username)


@router.post("/users/{username}/role", name="user_role", dependencies=WRITE)
def user_role(
    request: Request,
    username: Username,
    session: SessionDep,
    templates: TemplatesDep,
    principal: PrincipalDep,
    role: Annotated[str, Form(max_length=32, pattern=PRINTABLE)] = "",
) -> Response:
    """Give the user a national role, or take it away (an empty role)."""
    wanted = auth.Role.parse(role) if role.strip() else None
    if wanted is None or wanted is not auth.Role.NATIONAL_ADMIN:
        _not_yourself(principal, username, "take the administrator role from")
    _, enrolled = auth.set_national_role(session, principal, username, wanted)
    if enrolled is not None:  # the new second factor is shown this once
        return _page(request, session, templates, username, enrolment=enrolled)
    return _back(request, username)


@router.post("/users/{username}/memberships", name="user_grant", dependencies=WRITE)
def user_grant(
    request: Request,
    username: Username,
    session: SessionDep,
    principal: PrincipalDep,
    org: OrgField,
    role: Annotated[str, Form(max_length=32, pattern=PRINTABLE)],
) -> Response:
    """Make the user a member of an organisation with a role (replacing any role there)."""
    auth.grant(session, principal, username, org, auth.Role.parse(role))
    return _back(request, username)


@router.post("/users/{username}/memberships/revoke", name="user_revoke", dependencies=WRITE)
def user_revoke(
    request: Request,
    username: Username,
    session: SessionDep,
    principal: PrincipalDep,
    org: OrgField,
) -> Response:
    """Remove the user's membership of an organisation."""
    auth.revoke_membership(session, principal, username, org)
    return _back(request, username)


@router.post("/users/{username}/status", name="user_status", dependencies=WRITE)
def user_status(
    request: Request,
    username: Username,
    session: SessionDep,
    principal: PrincipalDep,
    templates: TemplatesDep,
    status: Annotated[str, Form(max_length=16)],
    confirm: Confirm = "",
) -> Response:
    """Disable the user (and end their sessions) once confirmed, or enable them again."""
    if status not in ("active", "disabled"):
        msg = f"status must be active or disabled, not {status!r}"
        raise InputError(msg, Location(field="status"))
    if status == "disabled":
        _not_yourself(principal, username, "disable")
        if confirm != "yes":
            return _confirm(request, templates, username, "disable", {"status": "disabled"})
    auth.set_disabled(session, principal, username, status == "disabled")
    return _back(request, username)


@router.post("/users/{username}/reset-totp", name="user_reset_totp", dependencies=WRITE)
def user_reset_totp(
    request: Request,
    username: Username,
    session: SessionDep,
    templates: TemplatesDep,
    principal: PrincipalDep,
    confirm: Confirm = "",
) -> HTMLResponse:
    """Give the user a new TOTP secret, shown this once, once confirmed; their sessions end."""
    if confirm != "yes":
        return _confirm(request, templates, username, "reset", {})
    enrolled = auth.reset_totp(session, principal, username)
    return _page(request, session, templates, username, enrolment=enrolled)


@router.post("/users/{username}/sign-out", name="user_sign_out", dependencies=WRITE)
def user_sign_out(
    request: Request, username: Username, session: SessionDep, principal: PrincipalDep
) -> Response:
    """End every session of the user, wherever they signed in."""
    auth.sign_out_user(session, principal, username)
    return _back(request, username)
