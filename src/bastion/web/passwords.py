"""The range API of breached passwords, compatible with Have I Been Pwned's.

``GET /range/{prefix}`` (five hex digits, any case) answers every breached hash
starting with it as ``SUFFIX:COUNT`` lines, upper-case, CRLF between lines, as
HIBP does; ``?mode=ntlm`` answers NTLM hashes. ``Add-Padding: true`` adds
zero-count rows of random suffixes up to 800–1,000 lines, so the answer's size
says nothing about the prefix; a prefix with no breached hash is always padded, as
HIBP's clients expect at least one line (the zero counts say "not breached"). No
sign-in: a prefix reveals nothing (k-anonymity), and a client's address is
rate-limited instead.

It is the most called route, so it is a bare Starlette endpoint rather than a
FastAPI one: FastAPI's parameter solving and its thread-pool hop cost more than
the answer itself (``bench/passwords.py``). ``document`` adds it to the OpenAPI
description, which FastAPI builds from its own routes only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.routing import Route

from bastion import passwords
from bastion.core.errors import InputError
from bastion.web.auth import client_ip
from bastion.web.deps import app_object, get_settings
from bastion.web.security import count_hit

CACHE_CONTROL = "public, max-age=86400"

router = APIRouter(tags=["passwords"])


def breach_stores(request: Request) -> passwords.Stores:
    """Return this app's breached-password stores (opened on first use, reopened on swap)."""
    return app_object(
        request, "password_stores", lambda: passwords.Stores(get_settings(request).passwords_dir)
    )


async def breached_range(request: Request) -> Response:
    """Return the prefix's suffixes and counts, one ``SUFFIX:COUNT`` per line."""
    await count_hit(request.app.state.range_limiter, client_ip(request), "range requests")
    prefix: str = request.path_params["prefix"]
    mode = request.query_params.get("mode", "sha1")
    if mode not in passwords.MODES:
        return PlainTextResponse("mode is sha1 or ntlm\n", status_code=400)
    try:
        passwords.parse_prefix(prefix)
    except InputError as exc:
        return PlainTextResponse(f"{exc}\n", status_code=400)
    store = breach_stores(request).get(mode)
    pad = request.headers.get("add-padding", "").strip().lower() == "true"
    etag = f'"{store.generation}-{prefix.upper()}"'
    if pad:
        etag = "W/" + etag  # the padding differs, the answer means the same
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Add-Padding"}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    lines = store.range_lines(prefix)
    if pad or not lines:  # HIBP has no empty range, and its clients fail on an empty answer
        return PlainTextResponse(passwords.padded_body(lines, store.mode), headers=headers)
    return PlainTextResponse("\r\n".join(lines), headers=headers)


router.routes.append(Route("/range/{prefix}", breached_range, methods=["GET"]))


def _text(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}


def _header(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "schema": {"type": "string"}, "description": description}


RANGE_PATH: dict[str, Any] = {
    "get": {
        "tags": ["passwords"],
        "summary": "Breached hashes starting with a five-hex-digit prefix (HIBP-compatible)",
        "operationId": "breached_range",
        "parameters": [
            {
                "name": "prefix",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": "^[0-9A-Fa-f]{5}$"},
                "description": "the first five hex digits of the hash, any case",
            },
            {
                "name": "mode",
                "in": "query",
                "schema": {"type": "string", "enum": list(passwords.MODES), "default": "sha1"},
                "description": "sha1 (default) or ntlm",
            },
            _header("Add-Padding", "true: pad to 800-1,000 rows with zero counts"),
            _header("If-None-Match", "an ETag of an earlier answer: 304 if unchanged"),
        ],
        "responses": {
            "200": _text("SUFFIX:COUNT lines, CRLF between them"),
            "304": {"description": "Not modified"},
            "400": _text("Not 5 hex digits, or an unknown mode"),
            "429": {"description": "Too many requests from this address"},
        },
    }
}


def document(app: FastAPI) -> None:
    """Add the range API to ``app``'s OpenAPI description, first among its paths."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema["paths"] = {"/range/{prefix}": RANGE_PATH, **schema["paths"]}
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
