"""`/api/v1/events`: search the archived events of the caller's organisations by filters.

No free SQL here: the filters are bound as parameters and the caller's scope is
bound by ``boundary.event_search`` itself, so a member reads its own
organisations' events only, whatever the request says.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from bastion.auth import Principal
from bastion.boundary.event_search import EventFilters, search_events
from bastion.boundary.sandbox import HuntPage, printable
from bastion.core.errors import NotFoundError
from bastion.core.scope import Scope
from bastion.web.api.hunts import CostOut, sandbox_limits
from bastion.web.api.org_models import Code
from bastion.web.api.paging import Limit, Offset
from bastion.web.auth import PrincipalDep, ScopeDep
from bastion.web.deps import PRINTABLE, SettingsDep

router = APIRouter(prefix="/events", tags=["events"])


class EventPage(BaseModel):
    """One page of events, newest first, and what the search cost."""

    items: list[dict[str, Any]] = Field(description="each event's shown columns by ECS name")
    limit: int
    offset: int
    more: bool = Field(description="events follow this page")
    cost: CostOut


def events_scope(principal: Principal, scope: Scope, org: str | None) -> Scope:
    """Return the organisations whose events the caller searches: ``scope``, narrowed to
    ``org`` when given.

    Another tenant's code is not found (before any permission is checked, so it
    answers as an absent one does); then the caller needs ``events:read``.
    """
    if org is not None and not scope.allows(org):
        msg = f"no organisation with code {org.upper()!r}"
        raise NotFoundError(msg)
    principal.require("events:read")
    return scope if org is None else Scope.of([org])


def event_filters(
    since: Annotated[datetime | None, Query(description="at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="before (ISO 8601)")] = None,
    address: Annotated[
        str | None, Query(max_length=64, pattern=PRINTABLE, description="any address column")
    ] = None,
    domain: Annotated[
        str | None,
        Query(max_length=253, pattern=PRINTABLE, description="URL, DNS or TLS name, or under it"),
    ] = None,
    url: Annotated[
        str | None, Query(max_length=500, pattern=PRINTABLE, description="in the URL")
    ] = None,
    action: Annotated[
        str | None, Query(max_length=64, pattern=PRINTABLE, description="the device's action")
    ] = None,
    dataset: Annotated[
        str | None, Query(max_length=64, pattern=PRINTABLE, description="e.g. `panos.traffic`")
    ] = None,
) -> EventFilters:
    """Read the search's filters from the query string (blank ones are left out)."""
    return EventFilters(
        since=since,
        until=until,
        address=address or None,
        domain=domain or None,
        url=url or None,
        action=action or None,
        dataset=dataset or None,
    )


FiltersDep = Annotated[EventFilters, Depends(event_filters)]


def event_page_out(page: HuntPage, limit: int) -> EventPage:
    return EventPage(
        items=printable(page.rows).to_dicts(),
        limit=limit,
        offset=page.offset,
        more=page.more,
        cost=CostOut(**page.cost.__dict__),
    )


@router.get("", summary="Search events")
def list_events(
    principal: PrincipalDep,
    scope: ScopeDep,
    settings: SettingsDep,
    filters: FiltersDep,
    org: Annotated[Code | None, Query(description="only this organisation's code")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> EventPage:
    """Return one page of the archived events of the caller's organisations, newest first."""
    page = search_events(
        settings.archive_dir,
        events_scope(principal, scope, org),
        filters,
        limits=sandbox_limits(settings),
        limit=limit,
        offset=offset,
    )
    return event_page_out(page, limit)
