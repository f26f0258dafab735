"""The tenancy matrix's rows for the people routes: who am I, users, API tokens, sign-out.

A route that edits a user edits a new viewer of the organisation (``World.new_user``);
the sign-out rows run in a fresh session of their own (``fresh_session``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.web.matrix_rows import get

EVERYONE = frozenset({"admin", "analyst", "auditor", "lead", "viewer", "multi", "token"})
PEOPLE = EVERYONE - {"token"}
ADMIN = frozenset({"admin"})
AUDITORS = frozenset({"admin", "auditor"})


def auth_routes(make: Callable[..., Any]) -> dict[tuple[str, str], Any]:
    """Return the matrix rows of every people route: ``make`` is the matrix's ``Case``."""
    return {
        ("GET", "/api/v1/me"): make(get("/api/v1/me"), EVERYONE),
        ("GET", "/users"): make(get("/users"), AUDITORS),
        ("POST", "/users"): make(
            lambda w, org: (
                "POST",
                "/users",
                {"data": {"username": f"new{next(w.counter)}", "role": "org_viewer", "org": org}},
            ),
            ADMIN,
            ok=201,
        ),
        ("GET", "/users/{username}"): make(get("/users/lead"), AUDITORS),
        ("POST", "/users/{username}/role"): make(
            lambda w, org: (
                "POST",
                f"/users/{w.new_user(org)}/role",
                {"data": {"role": "auditor"}},
            ),
            ADMIN,  # 200: the page shows the new second factor a national role needs
        ),
        ("POST", "/users/{username}/memberships"): make(
            lambda w, org: (
                "POST",
                f"/users/{w.new_user(org)}/memberships",
                {"data": {"org": org, "role": "org_lead"}},
            ),
            ADMIN,
            ok=303,
        ),
        ("POST", "/users/{username}/memberships/revoke"): make(
            lambda w, org: (
                "POST",
                f"/users/{w.new_user(org)}/memberships/revoke",
                {"data": {"org": org}},
            ),
            ADMIN,
            ok=303,
        ),
        ("POST", "/users/{username}/status"): make(
            lambda w, org: (
                "POST",
                f"/users/{w.new_user(org)}/status",
                {"data": {"status": "disabled", "confirm": "yes"}},
            ),
            ADMIN,
            ok=303,
        ),
        ("POST", "/users/{username}/reset-totp"): make(
            lambda w, org: (
                "POST",
                f"/users/{w.new_user(org)}/reset-totp",
                {"data": {"confirm": "yes"}},
            ),
            ADMIN,
        ),
        ("POST", "/users/{username}/sign-out"): make(
            lambda w, org: ("POST", f"/users/{w.new_user(org)}/sign-out", {}),
            ADMIN,
            ok=303,
        ),
        ("GET", "/tokens"): make(get("/tokens"), ADMIN),
        ("POST", "/tokens"): make(
            lambda _w, org: (
                "POST",
                "/tokens",
                {"data": {"name": "matrix", "org": org, "scopes": ["alerts:read"]}},
            ),
            ADMIN,
            ok=201,
        ),
        ("POST", "/tokens/{token_id}/revoke"): make(
            lambda w, org: ("POST", f"/tokens/{w.new_token(org)}/revoke", {}),
            ADMIN,
            ok=303,
        ),
        ("POST", "/signout"): make(
            lambda _w, _o: ("POST", "/signout", {}), PEOPLE, ok=303, fresh_session=True
        ),
        ("POST", "/signout/everywhere"): make(
            lambda _w, _o: ("POST", "/signout/everywhere", {}),
            PEOPLE,
            ok=303,
            fresh_session=True,
        ),
    }
