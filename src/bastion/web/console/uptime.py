"""The console's uptime pages: monitors (and certificates told expiring), a monitor's charts,
SLOs with budget burn and their service's real-users' traffic, incidents.

Built on the same functions as `/api/v1/uptime`, with the caller's scope: a member
sees its own organisations' monitors, SLOs and incidents; another's answer 404.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from bastion import uptime
from bastion.core.timeutil import utcnow
from bastion.uptime.models import MonitorRow
from bastion.uptime.reports import availability, of_monitors, series, slo_burn, slo_status
from bastion.web.api.uptime import HistoryDep, reader
from bastion.web.charts import line_chart
from bastion.web.console.view import View
from bastion.web.deps import SettingsDep

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Uptime = Annotated[View, Depends(View.of("uptime"))]
READ = [Depends(reader)]  # the lists; one monitor or SLO is looked up first (another's: 404)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/uptime", name="uptime_monitors", dependencies=READ)
def monitors_page(view: Uptime) -> HTMLResponse:
    """Every monitor the caller sees with its state, and the certificates told expiring."""
    from bastion.uptime.certificates import CertificateNotice, list_notices

    session = view.session
    found = uptime.list_monitors(session, view.scope)
    states = dict(session.execute(select(MonitorRow.id, MonitorRow.state)).all())
    names = {m.id: m.name for m in found}
    told: dict[tuple[str, str], CertificateNotice] = {}  # each once, at its tightest threshold
    for notice in list_notices(session, view.scope, limit=100):
        if notice.monitor_id in names:
            told.setdefault((notice.org, notice.sha256), notice)
    return view.render(
        "uptime/monitors.html", monitors=found, states=states, certificates=told.values(),
        names=names,
    )  # fmt: skip


@router.get("/uptime/monitors/{monitor_id}", name="uptime_monitor")
def monitor_page(
    monitor_id: Id, view: Uptime, found: HistoryDep, days: Annotated[int, Query(ge=1, le=90)] = 1
) -> HTMLResponse:
    """A monitor: its state, and response time and availability over time."""
    item = uptime.get_monitor(view.session, monitor_id, view.scope)  # others': 404 first
    view.principal.require("uptime:read")
    state, since = uptime.monitor_state(view.session, monitor_id, view.scope)
    now = utcnow()
    counts = of_monitors(found.counts(now - timedelta(days=days), now, now=now), [item.id])
    per = series(counts, "5m" if days <= 1 else "1h")
    moments = per["minute"].to_list()
    charts = {
        "latency": line_chart(list(zip(moments, per["latency_ms"].to_list(), strict=True)),
                              title="Mean response time", unit="ms"),
        "availability": line_chart(
            list(zip(moments, [None if a is None else a * 100 for a in per["availability"]],
                     strict=True)), title="Availability", unit="%", floor=90.0),
    }  # fmt: skip
    return view.render(
        "uptime/monitor.html", monitor=item, state=state, since=since, days=days,
        figure=availability(counts), charts=charts,
    )  # fmt: skip


@router.get("/uptime/slos", name="uptime_slos", dependencies=READ)
def slos_page(view: Uptime, found: HistoryDep) -> HTMLResponse:
    """Every SLO the caller sees: availability, error budget left, burn rates, alerts."""
    slos = uptime.list_slos(view.session, view.scope)
    return view.render("uptime/slos.html", statuses=slo_status(view.session, found, slos, utcnow()))


@router.get("/uptime/slos/{slo_id}", name="uptime_slo")
def slo_page(
    slo_id: Id, view: Uptime, found: HistoryDep, settings: SettingsDep,
    traffic_days: Annotated[int | None, Query(ge=1, le=400)] = None,
) -> HTMLResponse:  # fmt: skip
    """An SLO: its budget, burn rates per window, the budget left day by day, and, when
    asked (``traffic_days``: it reads that many days of the boundary's archive), the
    service's success ratio and latency in real users' traffic."""
    from bastion.slis import service_sli

    session, scope = view.session, view.scope
    slo = uptime.get_slo(session, slo_id, scope)  # others': 404 first
    view.principal.require("uptime:read")
    now = utcnow()
    [status] = slo_status(session, found, [slo], now)
    burn = slo_burn(session, found, slo, now)
    chart = line_chart(
        list(zip(burn["minute"].to_list(), [r * 100 for r in burn["remaining"]], strict=True)),
        title="Error budget left", unit="%",
    )  # fmt: skip
    traffic = None
    if traffic_days is not None:
        traffic = service_sli(session, settings.archive_dir, slo.service, scope, now,
                              org=slo.org, days=traffic_days)  # fmt: skip
    return view.render("uptime/slo.html", status=status, chart=chart, traffic=traffic)


@router.get("/uptime/incidents", name="uptime_incidents", dependencies=READ)
def incidents_page(view: Uptime) -> HTMLResponse:
    """Incidents the caller sees, open ones first, with their updates."""
    session, scope = view.session, view.scope
    found = [uptime.get_incident(session, i.id, scope)
             for i in uptime.list_incidents(session, scope, limit=100)]  # fmt: skip
    found.sort(key=lambda i: (i.resolved_at is not None, -i.opened_at.timestamp()))
    return view.render("uptime/incidents.html", incidents=found)
