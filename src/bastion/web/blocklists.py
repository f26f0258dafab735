"""Block lists served to enforcement points (PAN-OS EDL, FortiGate external threat feeds).

``GET /blocklists/{kind}.txt`` (kind: ip, domain, url) answers the list of the
calling device's policy as plain text. The device authenticates with its own
token only: ``Authorization: Bearer <token>``, or HTTP Basic with the token as
the password (what PAN-OS and FortiGate can send). ``If-None-Match`` with the
list's ETag answers 304.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import PlainTextResponse, Response

from bastion.intel.blocklists import RenderCache, Unauthorised, authenticate
from bastion.web.deps import SessionDep, app_object

router = APIRouter(prefix="/blocklists", tags=["blocklists"])


def _token(authorization: str | None) -> str:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic" and value.strip():
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        password = decoded.partition(":")[2]
        if password:
            return password
    msg = "a device token is required: Authorization: Bearer <token> (or Basic, token as password)"
    raise Unauthorised(msg)


def _unauthorised(exc: Unauthorised) -> Response:
    return PlainTextResponse(
        f"{exc}\n", status_code=401, headers={"WWW-Authenticate": 'Bearer, Basic realm="bastion"'}
    )


def _cache(request: Request) -> RenderCache:
    """Return this app's cache of rendered lists (one per app, so per store)."""
    return app_object(request, "blocklist_cache", RenderCache)


@router.get(
    "/{kind}.txt",
    response_class=PlainTextResponse,
    summary="A block list for the calling device's policy",
    responses={304: {"description": "Not modified"}, 401: {"description": "No valid token"}},
)
def blocklist(
    request: Request,
    session: SessionDep,
    kind: Annotated[str, Path(pattern="^(ip|domain|url)$", description="ip, domain or url")],
    authorization: Annotated[str | None, Header()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Return one list, one entry per line; 304 when the device already has this version."""
    now = datetime.now(UTC)
    try:
        _, policy = authenticate(session, _token(authorization), now=now)
    except Unauthorised as exc:
        return _unauthorised(exc)
    rendered = _cache(request).get(session, policy, kind, now=now)
    headers = {
        "ETag": rendered.etag,
        "Cache-Control": "no-cache",
        "X-Entries": str(rendered.entries),
    }
    if if_none_match is not None and rendered.etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return PlainTextResponse(rendered.text, headers=headers)
