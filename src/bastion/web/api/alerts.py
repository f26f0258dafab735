"""`/api/v1/alerts`: list and read alerts raised at the internet boundary.

Every call into the alert store passes ``orgs=`` from the ``AlertScope``
dependency: the organisations the signed-in caller may see (``None``: all), so
another tenant's alert is not found, exactly as an absent one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from bastion.alerts import (
    AlertFilter,
    TriageState,
    Verdict,
    alert_page,
    get_alert,
    require_org,
)
from bastion.core.events import AlertKind
from bastion.core.types import Severity
from bastion.web.api.org_models import Code
from bastion.web.api.paging import Limit, Offset
from bastion.web.auth import PrincipalDep
from bastion.web.deps import SessionDep

# Inside every backend's integer range: a larger id would be a database error, not a 4xx.
MAX_ID = 2**31 - 1

router = APIRouter(prefix="/alerts", tags=["alerts"])


async def alert_scope(principal: PrincipalDep) -> Sequence[str] | None:
    """Return the organisations whose alerts the caller may see; ``None`` means all of them.

    ``async``: it reads no store, so it needs no hop to the thread pool. It takes the
    caller alone (its scope is ``principal.scope``): FastAPI walks each dependency's
    own tree on every request."""
    principal.require("alerts:read")
    return principal.scope.codes


AlertScope = Annotated[Sequence[str] | None, Depends(alert_scope)]
AlertId = Annotated[int, Path(ge=1, le=MAX_ID, description="the alert's id")]


class _FromDomain(BaseModel):
    # Built from the alert store's frozen dataclasses by attribute.
    model_config = ConfigDict(from_attributes=True)


class EvidenceOut(_FromDomain):
    """One sample event behind an alert: when, what kind of log, where it is and what it said."""

    timestamp: datetime | None
    dataset: str | None = Field(description="the log's dataset, e.g. `panos.traffic`")
    path: str | None = Field(description="the source file the event was read from")
    offset: int | None = Field(description="byte offset of the line in that file")
    raw: str | None = Field(description="the raw line as received (at most 4096 characters)")


class AlertSummary(_FromDomain):
    """An alert as it appears in a list: events of one indicator or rule at one member host."""

    id: int
    org: str | None = Field(description="the organisation's code, as attributed")
    host: str | None = Field(description="the member host's IP address")
    kind: AlertKind = Field(description="what raised it: an indicator or a rule")
    key: str = Field(description="the indicator's or rule's id")
    title: str
    severity: Severity
    verdict: str = Field(description="`blocked` while every event was blocked, `live` after")
    state: str = Field(description="triage: new, acknowledged, in_progress or closed")
    resolution: str | None = Field(description="why it was closed")
    assignee: str | None = Field(description="the user or team working on it")
    group_id: int | None = Field(description="its alert group: the id of the group's first alert")
    observable: str | None = Field(description="what it is about: remote address, indicator")
    source: str | None = Field(description="the external source that raised it, if any")
    source_ref: str | None = Field(description="the source's own id of the alert")
    retrospective: bool = Field(description="found by a retro-hunt over archived events")
    indicator_type: str | None
    indicator_value: str | None
    indicator_source: str | None
    indicator_threat: str | None
    count: int = Field(description="how many events it groups")
    first_seen: datetime
    last_seen: datetime


class AlertOut(AlertSummary):
    """One alert with its evidence and when it was recorded."""

    evidence: list[EvidenceOut] = Field(description="sample events, the first few of the alert")
    created_at: datetime
    updated_at: datetime


class AlertPage(BaseModel):
    """One page of alerts, most recently seen first, and how many match in all."""

    items: list[AlertSummary]
    total: int = Field(
        description="how many alerts match the filters; when `total_exact` is false, at "
        "least this many (counting stops at 10,000 past the offset)"
    )
    total_exact: bool = Field(description="false: more alerts than `total` match")
    limit: int
    offset: int
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page (null: this is the last page)"
    )


@router.get("", summary="List alerts", response_model=AlertPage)
def list_boundary_alerts(
    session: SessionDep,
    scope: AlertScope,
    org: Annotated[Code | None, Query(description="only this organisation's code")] = None,
    verdict: Annotated[Verdict | None, Query(description="only blocked or live")] = None,
    state: Annotated[TriageState | None, Query(description="only this triage state")] = None,
    severity: Annotated[Severity | None, Query(description="only this severity")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: Annotated[
        str | None,
        Query(max_length=200, pattern=r"^[A-Za-z0-9_-]*$", description="a page's next_cursor"),
    ] = None,
) -> Response:
    """Return one page of alerts, most recently seen first, with the total that match."""
    if org is not None:
        require_org(session, org)  # a code nobody knows is a 404, not an empty page
    where = AlertFilter(
        org=org,
        orgs=scope,
        verdict=verdict.value if verdict else None,
        state=state.value if state else None,
        severity=severity,
    )
    found = alert_page(session, where, limit=limit, offset=offset, cursor=cursor)
    page = AlertPage.model_validate(  # the alerts read by attribute, the whole list in one call
        {
            "items": found.alerts,
            "total": found.total,
            "total_exact": found.exact,
            "limit": limit,
            "offset": offset,
            "next_cursor": found.next_cursor,
        },
        from_attributes=True,
    )
    # Built and checked here already: serialised once, not validated again on the way out.
    return Response(page.model_dump_json(), media_type="application/json")


@router.get("/{alert_id}", summary="Get an alert")
def get_boundary_alert(alert_id: AlertId, session: SessionDep, scope: AlertScope) -> AlertOut:
    """Return the alert with its indicator and evidence: sample raw lines and where they are."""
    return AlertOut.model_validate(get_alert(session, alert_id, orgs=scope))
