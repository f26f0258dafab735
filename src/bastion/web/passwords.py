"""The range API of breached passwords, compatible with Have I Been Pwned's.

``GET /range/{prefix}`` (five hex digits, any case) answers every breached hash
starting with it as ``SUFFIX:COUNT`` lines, upper-case, CRLF between lines, as
HIBP does; ``?mode=ntlm`` answers NTLM hashes. ``Add-Padding: true`` adds
zero-count rows of random suffixes up to 800–1,000 lines, so the answer's size
says nothing about the prefix; a prefix with no breached hash is always padded, as
HIBP's clients expect at least one line (the zero counts say "not breached"). No sign-in: a prefix reveals nothing (k-anonymity),
and a client's address is rate-limited instead.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response

from bastion import passwords
from bastion.core.errors import InputError
from bastion.web.auth import client_ip
from bastion.web.deps import app_object, get_settings
from bastion.web.security import RateLimiter

CACHE_CONTROL = "public, max-age=86400"

router = APIRouter(tags=["passwords"])


def breach_stores(request: Request) -> passwords.Stores:
    """Return this app's breached-password stores (opened on first use, reopened on swap)."""
    return app_object(
        request, "password_stores", lambda: passwords.Stores(get_settings(request).passwords_dir)
    )


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.range_limiter  # made by create_app
    return limiter


@router.get(
    "/range/{prefix}",
    response_class=PlainTextResponse,
    summary="Breached hashes starting with a five-hex-digit prefix (HIBP-compatible)",
    responses={304: {"description": "Not modified"}, 400: {"description": "Not 5 hex digits"}},
)
def breached_range(
    request: Request,
    prefix: Annotated[str, Path(description="the first five hex digits of the hash, any case")],
    mode: Annotated[str, Query(description="sha1 (default) or ntlm")] = "sha1",
    add_padding: Annotated[str | None, Header(description="true: pad to 800-1,000 rows")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Return the prefix's suffixes and counts, one ``SUFFIX:COUNT`` per line."""
    _limiter(request).hit(client_ip(request), "range requests")
    if mode not in passwords.MODES:
        return PlainTextResponse("mode is sha1 or ntlm\n", status_code=400)
    try:
        passwords.parse_prefix(prefix)
    except InputError as exc:
        return PlainTextResponse(f"{exc}\n", status_code=400)
    store = breach_stores(request).get(mode)
    pad = (add_padding or "").strip().lower() == "true"
    etag = f'"{store.generation}-{prefix.upper()}"'
    if pad:
        etag = "W/" + etag  # the padding differs, the answer means the same
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Add-Padding"}
    if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    lines = store.range_lines(prefix)
    if pad or not lines:  # HIBP has no empty range, and its clients fail on an empty answer
        lines = passwords.padded_lines(lines, store.mode)
    body = "\r\n".join(lines)
    return PlainTextResponse(body, headers=headers)
