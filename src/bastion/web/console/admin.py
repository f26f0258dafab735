"""The console's administration pages: users, API tokens and the audit trail."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from bastion import audit, auth
from bastion.auth.roles import CONTEXTS
from bastion.core.errors import InputError, Location
from bastion.web.auth import require, require_national
from bastion.web.console.paging import Page, paging
from bastion.web.console.view import View
from bastion.web.deps import PRINTABLE, SessionDep

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Users = Annotated[View, Depends(View.of("users"))]
Tokens = Annotated[View, Depends(View.of("tokens"))]

USER_SORT_LABELS = {"username": "Username", "last_sign_in": "Last sign-in", "created": "Newest"}

Filter = Annotated[str, Query(max_length=100, pattern=PRINTABLE)]


def _paging(
    view: View, page: int, total: int, shown: int, params: dict[str, str]
) -> dict[str, object]:
    """Return the pager of an administration list: 50 a page, every link numbered."""
    return paging(
        view.request, page, total, shown, size=PAGE_SIZE, params=params, number_first=True
    )


def _list_page(
    view: View, template: str, context: dict[str, object], created: object
) -> HTMLResponse:
    """Show an administration list; after a creation (its secret shown this once), 201, uncached."""
    done = created is not None
    return view.respond(
        template, {**context, "created": created}, status_code=201 if done else 200, no_store=done
    )


def _users_page(
    view: View, params: dict[str, str], page: int = 1, created: object = None
) -> HTMLResponse:
    """Show a page of the users listed with ``params`` (none: all), and a user just ``created``."""
    search = params.get("search", "")
    org = params.get("org", "")
    sort = params.get("sort", "username")
    found, total = auth.list_users(
        view.session,
        search=search.strip() or None,
        org=org.strip() or None,
        sort=sort or "username",
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    context = {
        "users": found,
        "search": search,
        "org": org,
        "sort": sort,
        "sorts": USER_SORT_LABELS,
        "roles": list(auth.Role),
        **_paging(view, page, total, len(found), params),
    }
    return _list_page(view, "admin/users.html", context, created)


@router.get("/users", name="user_list", dependencies=[Depends(require_national("users:read"))])
def user_list(
    view: Users,
    search: Filter = "",
    org: Annotated[str, Query(max_length=16, pattern=PRINTABLE)] = "",
    sort: Annotated[str, Query(max_length=16, pattern=PRINTABLE)] = "username",
    page: Page = 1,
) -> HTMLResponse:
    """Show the users, their roles and organisations, sorted, filtered, 50 a page."""
    return _users_page(view, {"search": search, "org": org, "sort": sort}, page)


@router.post("/users", name="user_create", dependencies=[Depends(require_national("users:write"))])
def user_create(
    view: Users,
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=32)],
    org: Annotated[str, Form(max_length=16)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    """Create a user with a random password (and TOTP secret when needed); show them once."""
    wanted = auth.Role.parse(role)
    code = org.strip()
    if wanted.national == bool(code):
        msg = "choose a national role without an organisation, or a member role with one"
        raise InputError(msg, Location(field="org"))
    password = secrets.token_urlsafe(12)
    user, enrolled = auth.create_user(
        view.session,
        view.principal,
        username,
        password,
        display_name=name,
        national_role=wanted if wanted.national else None,
        memberships=[(code, wanted)] if code else [],
    )
    return _users_page(
        view, {}, created={"user": user, "password": password, "enrolment": enrolled}
    )


def _tokens_page(
    view: View, params: dict[str, str], page: int = 1, created: object = None
) -> HTMLResponse:
    """Show a page of the API tokens listed with ``params`` (none: all), and one just ``created``."""
    org = params.get("org", "")
    found, total = auth.list_tokens(
        view.session, org=org.strip() or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    context = {
        "tokens": found,
        "org": org,
        "contexts": CONTEXTS,
        **_paging(view, page, total, len(found), params),
    }
    return _list_page(view, "admin/tokens.html", context, created)


@router.get("/tokens", name="token_list", dependencies=[Depends(require_national("users:write"))])
def token_list(
    view: Tokens, org: Annotated[str, Query(max_length=16, pattern=PRINTABLE)] = "", page: Page = 1
) -> HTMLResponse:
    """Show the API tokens, newest first, and a form to create one."""
    return _tokens_page(view, {"org": org}, page)


@router.post(
    "/tokens", name="token_create", dependencies=[Depends(require_national("users:write"))]
)
def token_create(
    view: Tokens,
    name: Annotated[str, Form(max_length=100)],
    scopes: Annotated[list[str], Form(max_length=len(CONTEXTS) * 2)],
    org: Annotated[str, Form(max_length=16)] = "",
    days: Annotated[int, Form(ge=1, le=366)] = 90,
) -> HTMLResponse:
    """Create a token and show its value, this once."""
    new = auth.create_token(
        view.session,
        view.principal,
        name,
        scopes,
        org=org.strip() or None,
        lifetime=timedelta(days=days),
    )
    return _tokens_page(view, {}, created=new)


@router.post(
    "/tokens/{token_id}/revoke",
    name="token_revoke",
    dependencies=[Depends(require_national("users:write"))],
)
def token_revoke(token_id: Annotated[int, Path(ge=1, le=2**31 - 1)], view: Tokens) -> Response:
    """Revoke a token at once."""
    auth.revoke_token(view.session, view.principal, token_id)
    return view.redirect("token_list")


@router.get("/audit", name="audit_list", dependencies=[Depends(require("audit:read"))])
def audit_list(
    view: Annotated[View, Depends(View.of("audit"))],
    action: Filter = "",
    actor: Filter = "",
    org: Annotated[str, Query(max_length=16, pattern=PRINTABLE)] = "",
    page: Page = 1,
) -> HTMLResponse:
    """Show the audit trail, newest first, filtered, 50 a page."""
    found, total = audit.list_events(
        view.session,
        action=action or None,
        actor=actor or None,
        org=org or None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    params = {"action": action, "actor": actor, "org": org}
    return view.render(
        "admin/audit.html",
        events=found,
        **params,
        export_query=urlencode({k: v for k, v in params.items() if v}),
        **_paging(view, page, total, len(found), params),
    )


@router.get(
    "/audit/export.{fmt}", name="audit_export", dependencies=[Depends(require("audit:read"))]
)
def audit_export(
    fmt: Annotated[str, Path(pattern="^(csv|json)$")],
    session: SessionDep,
    action: Filter = "",
    actor: Filter = "",
    org: Annotated[str, Query(max_length=16, pattern=PRINTABLE)] = "",
) -> Response:
    """Download the (filtered) audit trail as CSV or JSON, oldest first."""
    found, _ = audit.list_events(
        session, action=action or None, actor=actor or None, org=org or None, limit=EXPORT_LIMIT
    )
    if fmt == "csv":
        body, media = audit.export_csv(found), "text/csv; charset=utf-8"
    else:
        body, media = audit.export_json(found), "application/json"
    return PlainTextResponse(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="bastion-audit.{fmt}"'},
    )
