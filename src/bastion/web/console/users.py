"""The console's user page and the edits a national administrator makes there.

What ``bastion users`` does from the command line: change the national role, grant
and revoke organisation memberships, disable and enable, reset the TOTP second
factor, sign the user out everywhere. Each edit is a form with the session's CSRF
token and goes to the audit trail with the user before and after (``bastion.auth``).
Members never reach these pages: they answer 403, as the user list does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bastion import audit, auth
from bastion.core.errors import ConflictError, InputError, Location
from bastion.web.auth import require_national
from bastion.web.console.view import View
from bastion.web.deps import PRINTABLE

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
UsersView = Annotated[View, Depends(View.of("users"))]

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


def _page(view: View, username: str, *, enrolment: auth.Enrolment | None = None) -> HTMLResponse:
    """Show a user's page; with a new second factor (``enrolment``) shown this once, uncached."""
    user = auth.get_user(view.session, username)
    history, _ = audit.list_events(view.session, target=f"user:{user.username}", limit=HISTORY)
    context = {
        "user": user,
        "national_roles": sorted(auth.NATIONAL_ROLES),
        "member_roles": [auth.Role.ORG_LEAD, auth.Role.ORG_VIEWER],
        "history": history,
        "enrolment": enrolment,
        "consequences": CONSEQUENCES,
    }
    return view.respond("admin/user.html", context, no_store=enrolment is not None)


@dataclass(frozen=True)
class _Edit(View):
    """One edit of a user's page: the administrator's view, and the user edited."""

    username: str

    def back(self) -> RedirectResponse:
        """Return to the user's page (after a POST, with a GET)."""
        return self.redirect("user_page", username=self.username.strip().lower())

    def not_yourself(self, what: str) -> None:
        """Refuse an edit that would lock the administrator making it out of administration."""
        me = self.principal.kind is auth.PrincipalKind.USER
        if me and self.principal.name == self.username.strip().lower():
            msg = f"you may not {what} yourself: ask another national administrator"
            raise ConflictError(msg)

    def page(self, enrolment: auth.Enrolment | None) -> HTMLResponse:
        """Show the user's page again, with a new second factor shown this once."""
        return _page(self, self.username, enrolment=enrolment)

    def confirm(self, what: str, fields: dict[str, str]) -> HTMLResponse:
        """Ask before a destructive edit: a page whose form posts it again with confirm=yes."""
        username = self.username.strip().lower()
        route = "user_status" if what == "disable" else "user_reset_totp"
        return self.render(
            "admin/confirm.html",
            username=username,
            action=self.path(route, username=username),
            question=(
                f"Disable {self.username}?"
                if what == "disable"
                else f"Reset {self.username}'s second factor?"
            ),
            consequence=CONSEQUENCES[what],
            button="Disable" if what == "disable" else "Reset second factor",
            fields=fields,
        )


def _edit(view: UsersView, username: Username) -> _Edit:
    return _Edit(view.request, view.session, view.templates, view.principal, view.section, username)


Edit = Annotated[_Edit, Depends(_edit)]


@router.get(
    "/users/{username}",
    name="user_page",
    dependencies=[Depends(require_national("users:read"))],
)
def user_page(username: Username, view: UsersView) -> HTMLResponse:
    """Show a user: roles, memberships, second factor, state, recent changes, and the edit forms."""
    return _page(view, username)


@router.post("/users/{username}/role", name="user_role", dependencies=WRITE)
def user_role(
    edit: Edit,
    role: Annotated[str, Form(max_length=32, pattern=PRINTABLE)] = "",
) -> Response:
    """Give the user a national role, or take it away (an empty role)."""
    wanted = auth.Role.parse(role) if role.strip() else None
    if wanted is None or wanted is not auth.Role.NATIONAL_ADMIN:
        edit.not_yourself("take the administrator role from")
    _, enrolled = auth.set_national_role(edit.session, edit.principal, edit.username, wanted)
    if enrolled is not None:  # the new second factor is shown this once
        return edit.page(enrolled)
    return edit.back()


@router.post("/users/{username}/memberships", name="user_grant", dependencies=WRITE)
def user_grant(
    edit: Edit, org: OrgField, role: Annotated[str, Form(max_length=32, pattern=PRINTABLE)]
) -> Response:
    """Make the user a member of an organisation with a role (replacing any role there)."""
    auth.grant(edit.session, edit.principal, edit.username, org, auth.Role.parse(role))
    return edit.back()


@router.post("/users/{username}/memberships/revoke", name="user_revoke", dependencies=WRITE)
def user_revoke(edit: Edit, org: OrgField) -> Response:
    """Remove the user's membership of an organisation."""
    auth.revoke_membership(edit.session, edit.principal, edit.username, org)
    return edit.back()


@router.post("/users/{username}/status", name="user_status", dependencies=WRITE)
def user_status(
    edit: Edit,
    status: Annotated[str, Form(max_length=16)],
    confirm: Confirm = "",
) -> Response:
    """Disable the user (and end their sessions) once confirmed, or enable them again."""
    if status not in ("active", "disabled"):
        msg = f"status must be active or disabled, not {status!r}"
        raise InputError(msg, Location(field="status"))
    if status == "disabled":
        edit.not_yourself("disable")
        if confirm != "yes":
            return edit.confirm("disable", {"status": "disabled"})
    auth.set_disabled(edit.session, edit.principal, edit.username, status == "disabled")
    return edit.back()


@router.post("/users/{username}/reset-totp", name="user_reset_totp", dependencies=WRITE)
def user_reset_totp(edit: Edit, confirm: Confirm = "") -> HTMLResponse:
    """Give the user a new TOTP secret, shown this once, once confirmed; their sessions end."""
    if confirm != "yes":
        return edit.confirm("reset", {})
    return edit.page(auth.reset_totp(edit.session, edit.principal, edit.username))


@router.post("/users/{username}/sign-out", name="user_sign_out", dependencies=WRITE)
def user_sign_out(edit: Edit) -> Response:
    """End every session of the user, wherever they signed in."""
    auth.sign_out_user(edit.session, edit.principal, edit.username)
    return edit.back()
