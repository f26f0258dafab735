"""Public status pages, their JSON and Atom feeds, and push monitors' heartbeat URL.

No sign-in: a status page shows only what its owner marked public (the page's
services, their public monitors' states and 90 days of availability, public
incidents and maintenance) and nothing of any other organisation. The HTML is
rendered here with no script and nothing from another site. A push monitor's
heartbeat URL holds its unguessable token, which is all a heartbeat needs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from xml.sax.saxutils import escape

from fastapi import APIRouter, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, Response

from bastion import uptime
from bastion.core.timeutil import utcnow
from bastion.uptime.reports import StatusPage, status_page
from bastion.web.api.uptime import HistoryDep
from bastion.web.charts import status_strip
from bastion.web.deps import SessionDep, TemplatesDep

router = APIRouter(tags=["status"])
Slug = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="the page's slug")]
Token = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/status/{slug}", response_class=HTMLResponse, include_in_schema=False,
            name="status_page")  # fmt: skip
def page(
    slug: Slug, request: Request, session: SessionDep, found: HistoryDep, templates: TemplatesDep
) -> HTMLResponse:
    """The public status page of a service group."""
    shown = status_page(session, found, slug, utcnow())
    strips = {
        s.service: status_strip(s.days, title=f"{s.service}: 90 days") for s in shown.services
    }
    return templates.TemplateResponse(
        request, "uptime/status.html", {"page": shown, "strips": strips}
    )


@router.get("/status/{slug}/status.json", summary="A status page as JSON")
def page_json(slug: Slug, session: SessionDep, found: HistoryDep) -> JSONResponse:
    shown = status_page(session, found, slug, utcnow())
    return JSONResponse(jsonable_encoder(shown))


def _atom(shown: StatusPage, base: str) -> str:
    def stamp(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    entries = []
    for incident in shown.incidents:
        latest = incident.resolved_at or incident.opened_at
        entries.append(
            f"<entry><id>{escape(base)}#incident-{incident.id}</id>"
            f"<title>{escape(incident.title)} ({incident.status.value})</title>"
            f"<updated>{stamp(latest)}</updated>"
            f"<summary>{escape(incident.service)}: {incident.impact.value} impact</summary></entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>{escape(base)}</id><title>{escape(shown.title)}</title>"
        f'<link href="{escape(base)}"/><updated>{stamp(shown.updated)}</updated>'
        f"{''.join(entries)}</feed>"
    )


@router.get("/status/{slug}/feed.atom", summary="A status page's incidents as an Atom feed")
def page_atom(slug: Slug, request: Request, session: SessionDep, found: HistoryDep) -> Response:
    shown = status_page(session, found, slug, utcnow())
    base = str(request.url_for("status_page", slug=slug))
    return Response(_atom(shown, base), media_type="application/atom+xml")


@router.post("/push/{token}", summary="A push monitor's heartbeat")
@router.get("/push/{token}", summary="A push monitor's heartbeat (GET, for cron and curl)")
def push(token: Token, session: SessionDep) -> dict[str, Any]:
    done = uptime.record_push(session, token)
    return {"ok": True, "monitor": done.name}
