"""The console's event search: the archived events of the caller's organisations, by filters.

Built on `/api/v1/events`'s functions: the caller's scope is bound in
``boundary.event_search``, so a member's page holds its own organisations' events only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from bastion.boundary.event_search import COLUMNS, EventFilters, search_events
from bastion.boundary.sandbox import printable
from bastion.core.errors import InputError
from bastion.core.timeutil import as_utc
from bastion.web.api.events import events_scope
from bastion.web.api.hunts import sandbox_limits
from bastion.web.console.paging import Page, page_link
from bastion.web.console.view import View
from bastion.web.deps import PRINTABLE, SettingsDep

PAGE_SIZE = 50
FIELDS = ("since", "until", "address", "domain", "url", "action", "dataset", "org")

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Events = Annotated[View, Depends(View.of("events"))]

Filter = Annotated[str, Query(max_length=500, pattern=PRINTABLE)]


def _moment(name: str, value: str) -> datetime | None:
    """Read a date or date-and-time field (UTC unless it says); blank is None."""
    if not value.strip():
        return None
    try:
        return as_utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        msg = f"{name}: {value!r} is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
        raise InputError(msg) from None


@router.get("/events", name="event_search")
def event_search(
    view: Events,
    settings: SettingsDep,
    since: Filter = "",
    until: Filter = "",
    address: Filter = "",
    domain: Filter = "",
    url: Filter = "",
    action: Filter = "",
    dataset: Filter = "",
    org: Annotated[str, Query(max_length=16, pattern=PRINTABLE)] = "",
    page: Page = 1,
) -> HTMLResponse:
    """Show the newest events of the caller's organisations that match the filters, 50 a page."""
    params = {
        "since": since.strip(),
        "until": until.strip(),
        "address": address.strip(),
        "domain": domain.strip(),
        "url": url.strip(),
        "action": action.strip(),
        "dataset": dataset.strip(),
        "org": org.strip().upper(),
    }
    filters = EventFilters(
        since=_moment("since", since),
        until=_moment("until", until),
        address=params["address"] or None,
        domain=params["domain"] or None,
        url=params["url"] or None,
        action=params["action"] or None,
        dataset=params["dataset"] or None,
    )
    found = search_events(
        settings.archive_dir,
        events_scope(view.principal, view.scope, params["org"] or None),
        filters,
        limits=sandbox_limits(settings),
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    shown = printable(found.rows)
    return view.render(
        "events/search.html",
        columns=COLUMNS,
        rows=shown.rows(),
        filters=params,
        filtered=any(params.values()),
        national=view.scope.national,
        orgs=view.scope.codes or [],
        page=page,
        first=(page - 1) * PAGE_SIZE + 1,
        last=(page - 1) * PAGE_SIZE + shown.height,
        previous_link=page_link(view.request, params, page - 1) if page > 1 else None,
        next_link=page_link(view.request, params, page + 1) if found.more else None,
        cost=found.cost,
    )
