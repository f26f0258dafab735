"""How errors reach a client: JSON ``{"detail": ...}`` for the API, an HTML page for the console.

Every BastionError answers with its ``http_status``; a request that does not
validate answers 422 (API) or 400 (console) with a message naming the field;
nothing a client sends should produce a 500.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.templating import Jinja2Templates

from bastion.core.errors import BastionError, InputError, NotFoundError, PermissionDenied

log = logging.getLogger("bastion.web")

# Paths answered in JSON; everything else is a console page and gets HTML.
JSON_PATHS = ("/api/", "/health", "/openapi.json")

_TITLES = {
    400: "Bad request",
    401: "Sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Invalid input",
    429: "Too many requests",
    503: "Service unavailable",
}


class FieldError(InputError):
    """A field of a request is invalid in a way only the store can tell (an unknown parent)."""

    http_status = 422


class FieldProblem(BaseModel):
    """One invalid field of a request."""

    field: str = Field(description="the field, e.g. `networks[0]` or `limit`")
    location: str = Field(description="where the field is: body, query, path or header")
    message: str


class Problem(BaseModel):
    """An error answer: what went wrong and, for invalid input, which fields."""

    detail: str = Field(description="one line: what went wrong and what to do")
    errors: list[FieldProblem] | None = Field(
        default=None, description="each invalid field (validation errors only)"
    )


# Documented on every API route, so the OpenAPI description shows the real error shape.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No valid session or API token"},
    403: {"model": Problem, "description": "The caller lacks the permission"},
    404: {"model": Problem, "description": "Not found"},
    422: {"model": Problem, "description": "Invalid input; `errors` names each field"},
    503: {"model": Problem, "description": "The database is unavailable"},
}


def field_name(loc: Sequence[int | str]) -> str:
    """Render a validation location as a field path: ``("body", "hosts", 0, "hostname")`` → ``hosts[0].hostname``."""
    name = ""
    for part in loc[1:]:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or (str(loc[0]) if loc else "body")


def field_problems(errors: Sequence[Any]) -> list[FieldProblem]:
    """Turn pydantic/FastAPI validation errors into field problems, without echoing the input."""
    problems = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        message = str(error.get("msg", "invalid"))
        if error.get("type") == "json_invalid":
            reason = error.get("ctx", {}).get("error", "")
            message = f"not valid JSON: {reason}" if reason else "not valid JSON"
            loc = ("body",)
        problems.append(
            FieldProblem(
                field=field_name(loc),
                location=str(loc[0]) if loc else "body",
                message=message,
            )
        )
    return problems


# What a permission's context is called on the console.
_SUBJECTS = {
    "orgs": "organisations",
    "alerts": "alerts",
    "advisories": "national cyber alerts",
    "intel": "threat intelligence",
    "detect": "detection rules",
    "users": "users and API tokens",
    "audit": "the audit trail",
}
# A clause telling the command line's reader what to run: "; list them with `bastion …`",
# "(`bastion init`)", "(see `bastion hunt --help`)". The web's readers cannot run it.
_CLI_CLAUSE = re.compile(r"\s*(?:;[^;]*`bastion\b[^`]*`[^;]*|\((?:see |run )?`bastion\b[^`]*`\))")


def without_cli_hints(message: str) -> str:
    """Return ``message`` without the clauses that tell the reader to run a ``bastion`` command."""
    return _CLI_CLAUSE.sub("", message).strip()


def denied_for_console(exc: PermissionDenied) -> str:
    """Say to a person in the browser what they may not do, in words, and who can change it."""
    if exc.permission is None:
        return without_cli_hints(str(exc))
    context, _, action = exc.permission.partition(":")
    verb = "change" if action == "write" else "see"
    subject = _SUBJECTS.get(context, context)
    if exc.national:
        where = " for the whole federation"
    elif exc.org:
        where = f" of {exc.org}"
    else:
        where = ""
    return (
        f"Your account cannot {verb} {subject}{where}. "
        "If your work needs it, ask a national administrator to change your role."
    )


def denied_for_api(exc: PermissionDenied) -> str:
    """Say to an API client which permission it lacks, and where."""
    if exc.permission is None:
        return without_cli_hints(str(exc))
    where = " nationally" if exc.national else f" at {exc.org}" if exc.org else ""
    return (
        f"forbidden: {exc.caller or 'the caller'} lacks the permission {exc.permission}{where} "
        "(GET /api/v1/me shows the caller's roles and scopes)"
    )


def message_for(exc: BastionError, *, api: bool) -> str:
    """Return the error's message for the reader of the surface: an API client or a person."""
    if isinstance(exc, PermissionDenied):
        return denied_for_api(exc) if api else denied_for_console(exc)
    if exc.http_status >= 500:
        return str(exc)  # the operator's problem (a database down): they hold the command line
    message = without_cli_hints(str(exc))
    if isinstance(exc, NotFoundError) and not api:
        message = message.rstrip(".") + ". It does not exist, or your account may not see it."
    return message


def wants_json(request: Request) -> bool:
    """Tell whether the request is to the API (JSON answers) rather than the console (HTML)."""
    path: str = request.scope.get("path", "")
    root: str = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path.startswith(JSON_PATHS)


def error_page(
    request: Request, status: int, detail: str, headers: dict[str, str] | None = None
) -> Response:
    """Render the console's error page with ``status`` and an escaped one-line ``detail``."""
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "status": status,
            "title": _TITLES.get(status, "Something went wrong"),
            "detail": detail,
            "section": "",
        },
        status_code=status,
        headers=headers,
    )


async def _bastion_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BastionError)
    # Imported here: auth and security import this module's neighbours, not the other way round.
    from bastion.web.auth import SignInRequired, sign_in_location
    from bastion.web.security import TooManyRequests

    status = exc.http_status
    if status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    headers: dict[str, str] = {}
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, SignInRequired):
        if not wants_json(request):
            return RedirectResponse(sign_in_location(request), status_code=303)
        headers["WWW-Authenticate"] = 'Bearer realm="bastion"'
    if wants_json(request):
        detail = message_for(exc, api=True)
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    return error_page(request, status, message_for(exc, api=False), headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = field_problems(exc.errors())
    detail = "; ".join(f"{p.field}: {p.message}" for p in problems)
    if wants_json(request):
        body = Problem(detail=detail, errors=problems).model_dump(mode="json")
        return JSONResponse(body, status_code=422)
    return error_page(request, 400, detail)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code < 200 or exc.status_code in {204, 304}:
        return Response(status_code=exc.status_code, headers=headers)
    if wants_json(request):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
    return error_page(request, exc.status_code, str(exc.detail), headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # The server log gets the traceback (Starlette re-raises after this); the client gets no internals.
    detail = "internal error: the server log has the details"
    if wants_json(request):
        return JSONResponse({"detail": detail}, status_code=500)
    return error_page(request, 500, detail)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error in the shape the client expects (JSON for the API, HTML for the console)."""
    app.add_exception_handler(BastionError, _bastion_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
