"""Pull Microsoft Defender for Endpoint alerts from the Graph security API.

OAuth 2.0 client credentials: the client's id and secret buy a bearer token at
``token_url``; then ``alerts_url`` (Graph ``/security/alerts_v2``) is read page
by page, following ``@odata.nextLink``, oldest first, from the cursor on. The
cursor is kept in the store itself: the newest ``createdDateTime`` of the Defender
alerts already stored. The filter is ``ge`` (an alert created in the same instant
as the cursor is not lost) and the import deduplicates on (source, reference), so
pulling again never doubles an alert. Each page goes through the Defender import
(``defender_alerts`` → ``raise_external``): attributed, deduplicated, grouped.
Both URLs are configurable; tests pass an httpx transport, never the internet.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.alerts.external import DEFENDER, ExternalReport, defender_alerts, raise_external
from bastion.alerts.models import AlertRow
from bastion.audit import Actor
from bastion.core.errors import FetchError
from bastion.core.timeutil import as_utc


@dataclass(frozen=True)
class DefenderClient:
    """Where and as whom to pull Defender alerts."""

    token_url: str  # https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token
    alerts_url: str  # https://graph.microsoft.com/v1.0/security/alerts_v2
    client_id: str
    client_secret: str = field(repr=False)
    scope: str = "https://graph.microsoft.com/.default"
    page_size: int = 100
    max_pages: int = 1000
    timeout: float = 30.0
    transport: httpx.BaseTransport | None = None  # tests pass one; None is the network


def cursor(session: Session) -> datetime | None:
    """Return the newest creation time of the Defender alerts stored (None: none yet)."""
    newest = session.scalar(
        select(func.max(AlertRow.first_seen)).where(AlertRow.source == DEFENDER)
    )
    return None if newest is None else as_utc(newest)


def _json(answer: httpx.Response, what: str) -> dict[str, Any]:
    if not answer.is_success:
        msg = f"{what} answered HTTP {answer.status_code}"
        raise FetchError(msg)
    try:
        document = answer.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        msg = f"{what} did not answer a JSON object"
        raise FetchError(msg)
    return document


def _token(client: DefenderClient, http: httpx.Client) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "scope": client.scope,
    }
    token = _json(http.post(client.token_url, data=form), "the token endpoint").get("access_token")
    if not isinstance(token, str) or not token:
        msg = "the token endpoint answered no access_token"
        raise FetchError(msg)
    return token


def pages(client: DefenderClient, since: datetime | None) -> Iterator[dict[str, Any]]:
    """Yield the alerts_v2 pages created at or after ``since`` (all when None), oldest first."""
    try:
        with httpx.Client(transport=client.transport, timeout=client.timeout) as http:
            headers = {"Authorization": f"Bearer {_token(client, http)}"}
            params: dict[str, str] | None = {
                "$orderby": "createdDateTime asc",
                "$top": str(client.page_size),
            }
            if since is not None and params is not None:
                stamp = as_utc(since).isoformat().replace("+00:00", "Z")
                params["$filter"] = f"createdDateTime ge {stamp}"
            url: str | None = client.alerts_url
            for _ in range(client.max_pages):
                if url is None:
                    return
                page = _json(http.get(url, params=params, headers=headers), "the alerts endpoint")
                yield page
                link = page.get("@odata.nextLink")
                url, params = (str(link), None) if link else (None, None)
    except httpx.HTTPError as exc:
        msg = f"pulling Defender alerts failed: {type(exc).__name__}: {exc}"
        raise FetchError(msg) from exc


def pull_defender(
    session: Session,
    actor: Actor,
    client: DefenderClient,
    *,
    group_window: timedelta = timedelta(hours=1),
) -> ExternalReport:
    """Pull the Defender alerts new since the cursor, raise them, and audit the pull."""
    since = cursor(session)
    read = created = duplicates = unattributed = 0
    for page in pages(client, since):
        report = raise_external(session, defender_alerts(page), group_window=group_window)
        read += report.read
        created += report.created
        duplicates += report.duplicates
        unattributed += report.unattributed
    audit.record(
        session,
        actor,
        "alert.pull",
        f"source:{DEFENDER}",
        after={
            "since": since.isoformat() if since else None,
            "read": read,
            "created": created,
            "duplicates": duplicates,
        },
    )
    return ExternalReport(read, created, duplicates, unattributed)
