"""The console's threat-intelligence pages: indicators (search, one indicator), feeds and pulls.

National roles only, as the API (see ``bastion.web.api.intel``); the forms to add
and expire an indicator are for national analysts and administrators.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from bastion import intel
from bastion.core.errors import InputError
from bastion.core.timeutil import utcnow
from bastion.core.types import Severity, Tlp
from bastion.intel import feeds
from bastion.intel.indicator import Action, IndicatorType, parse_tlp
from bastion.intel.service import SORTS
from bastion.web.api.intel import (
    FeedName,
    IndicatorId,
    active_filter,
    feed_summaries,
    indicator_view,
)
from bastion.web.auth import require_national
from bastion.web.console.paging import Page, page_link, paging
from bastion.web.console.view import View, see_other
from bastion.web.deps import PRINTABLE

PAGE_SIZE = 50

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Intel = Annotated[View, Depends(View.of("intel"))]
# National roles only, as the API: reading takes intel:read, listing and expiring intel:write.
READ = [Depends(require_national("intel:read"))]
WRITE = [Depends(require_national("intel:write"))]


def _type(value: str) -> IndicatorType | None:
    return IndicatorType.parse(value) if value.strip() else None


def indicator_path(request: Request, indicator_id: str) -> str:
    """Return the console path of an indicator (its value may hold slashes and queries)."""
    base = request.url_for("intel_list").path
    return f"{base}/indicators/{quote(indicator_id, safe=':/@')}"


@router.get("/intel", name="intel_list", dependencies=READ)
def intel_list(
    view: Intel,
    q: Annotated[str, Query(max_length=200, pattern=PRINTABLE)] = "",
    type: Annotated[str, Query(max_length=16)] = "",
    source: Annotated[str, Query(max_length=100, pattern=PRINTABLE)] = "",
    active: Annotated[str, Query(max_length=5)] = "",
    sort: Annotated[str, Query(max_length=20)] = "value",
    page: Page = 1,
) -> HTMLResponse:
    """Show indicators, searched and filtered, sorted, 50 listings a page."""
    kind = _type(type)
    wanted_active = active_filter(active)
    found, total = intel.list_indicators(
        view.session,
        type=kind,
        search=q.strip() or None,
        source=source.strip() or None,
        active=wanted_active,
        sort=sort,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    filters = {
        "q": q.strip(),
        "type": kind.value if kind else "",
        "source": source.strip(),
        "active": "" if wanted_active is None else str(wanted_active).lower(),
    }

    def sorted_by(order: str) -> dict[str, str]:
        return {**filters, "sort": order if order != "value" else ""}

    request = view.request
    return view.render(
        "intel/list.html",
        indicators=found,
        **paging(request, page, total, len(found), size=PAGE_SIZE, params=sorted_by(sort)),
        sort_links={
            key: page_link(request, sorted_by(f"-{key}" if sort == key else key), 1)
            for key in SORTS
        },
        sort=sort,
        filters=filters,
        filtered=any(filters.values()),
        types=list(IndicatorType),
        severities=list(Severity),
        actions=list(Action),
        tlps=list(Tlp),
        path_of=lambda i: indicator_path(request, i),
        may_write=view.principal.can_nationally("intel:write"),
    )


@router.get("/intel/indicators/{indicator_id:path}", name="intel_indicator", dependencies=READ)
def intel_indicator(indicator_id: IndicatorId, view: Intel) -> HTMLResponse:
    """Show one indicator: its sources, the organisations it hit this week, its alerts."""
    return view.render(
        "intel/show.html",
        view=indicator_view(view.session, indicator_id),
        now=utcnow(),
        may_write=view.principal.can_nationally("intel:write"),
    )


@router.post("/intel/indicators", name="intel_add", dependencies=WRITE)
def intel_add(
    view: Intel,
    type: Annotated[str, Form(max_length=16)],
    value: Annotated[str, Form(min_length=1, max_length=2048, pattern=PRINTABLE)],
    source: Annotated[str, Form(max_length=100, pattern=PRINTABLE)] = "manual",
    severity: Annotated[str, Form(max_length=16)] = "medium",
    confidence: Annotated[int, Form(ge=0, le=100)] = 50,
    action: Annotated[str, Form(max_length=8)] = "alert",
    threat: Annotated[str, Form(max_length=200, pattern=PRINTABLE)] = "",
    tlp: Annotated[str, Form(max_length=16)] = "AMBER",
) -> RedirectResponse:
    """List an indicator by hand, then show it."""
    kind = _type(type)
    if kind is None:
        msg = "choose the indicator's type"
        raise InputError(msg)
    indicator = intel.Indicator(
        type=kind,
        value=value,
        source=source.strip() or "manual",
        severity=intel.parse_severity(severity),
        confidence=confidence,
        action=intel.parse_action(action),
        threat=threat,
        tlp=parse_tlp(tlp),
    )
    intel.add_indicator(view.session, indicator, actor=view.principal.as_actor())
    return see_other(indicator_path(view.request, indicator.id))


@router.post("/intel/expire", name="intel_expire", dependencies=WRITE)
def intel_expire(
    view: Intel,
    id: Annotated[str, Form(min_length=3, max_length=2100, pattern=PRINTABLE)],
    reason: Annotated[str, Form(max_length=500, pattern=PRINTABLE)],
    source: Annotated[str, Form(max_length=100, pattern=PRINTABLE)] = "",
) -> RedirectResponse:
    """Expire an indicator (every source's listing, or one) saying why, then show it."""
    intel.expire_indicator(
        view.session,
        id,
        actor=view.principal.as_actor(),
        reason=reason,
        now=utcnow(),
        source=source.strip() or None,
    )
    found = intel.get_indicator(view.session, id)[0]
    return see_other(indicator_path(view.request, found.id))


@router.get("/intel/feeds", name="intel_feeds", dependencies=READ)
def intel_feeds(view: Intel) -> HTMLResponse:
    """Show every feed with the status of its last pull."""
    return view.render("intel/feeds.html", feeds=feed_summaries(view.session))


@router.get("/intel/feeds/{name}", name="intel_feed", dependencies=READ)
def intel_feed(name: FeedName, view: Intel) -> HTMLResponse:
    """Show one feed and its pull history, newest first."""
    feed = feeds.get_feed(view.session, name)
    return view.render(
        "intel/feed.html", feed=feed, pulls=feeds.feed_history(view.session, name, limit=100)
    )
