"""`/api/v1/uptime`: monitors, their history, SLOs, incidents, maintenance, SLA reports, metrics,
certificates found expiring, and SLIs of real users' traffic from the boundary's logs.

A member manages its own organisations' monitors and sees its own SLOs; another
organisation's answer 404, exactly as ones that do not exist; national roles see
all. Every change goes through ``bastion.uptime``'s door, which audits it.
Agents without NATS post their results to ``POST /results`` (national write).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from bastion import uptime
from bastion.auth import Principal
from bastion.core.timeutil import utcnow
from bastion.uptime import config
from bastion.uptime.centre import seen
from bastion.uptime.history import History
from bastion.uptime.reports import (
    availability,
    of_monitors,
    series,
    sla_report,
    slo_burn,
    slo_status,
)
from bastion.web.api.org_models import Code
from bastion.web.auth import PrincipalDep
from bastion.web.deps import PRINTABLE, SessionDep, SettingsDep

router = APIRouter(prefix="/uptime", tags=["uptime"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Line = Annotated[str, Field(min_length=1, max_length=300, pattern=PRINTABLE)]
Name = Annotated[str, Field(min_length=1, max_length=120, pattern=PRINTABLE)]


def reader(principal: PrincipalDep) -> Principal:
    principal.require("uptime:read")
    return principal


Reader = Annotated[Principal, Depends(reader)]


def history(request: Request, settings: SettingsDep) -> History:
    found = getattr(request.app.state, "uptime_history", None)
    return found if isinstance(found, History) else config.history(settings)


HistoryDep = Annotated[History, Depends(history)]


def writable_org(principal: Principal, org: str) -> str:
    """Return the code of the organisation a new item is for, once the caller may write there;
    one outside the caller's scope is left to ``bastion.uptime``, which answers 404 first."""
    code = org.upper()
    if principal.scope.allows(code):
        principal.require("uptime:write", code)
    return code


def _plain(value: Any) -> dict[str, Any]:
    found: dict[str, Any] = jsonable_encoder(value)
    return found


class MonitorIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Name
    kind: str = Field(max_length=8, description="http, tcp, dns, tls, icmp or push")
    target: str = Field(default="", max_length=500)
    org: Code
    service: Name
    interval_s: int = Field(default=60, ge=10, le=86_400)
    timeout_s: float = Field(default=10.0, gt=0, le=600)
    retries: int = Field(default=0, ge=0, le=10)
    quorum: int = Field(default=2, ge=1, le=16)
    tags: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=20)
    options: dict[str, str | int | float | bool] = Field(default_factory=dict)
    public: bool = False


@router.get("/monitors", summary="List the monitors the caller sees")
def list_monitors(session: SessionDep, principal: Reader) -> list[dict[str, Any]]:
    return [_plain(m) for m in uptime.list_monitors(session, principal.scope)]


@router.post("/monitors", status_code=status.HTTP_201_CREATED, summary="Add a monitor")
def add_monitor(body: MonitorIn, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    org = writable_org(principal, body.org)
    item = uptime.monitor(
        body.name, body.kind, body.target, org=org, service=body.service,
        interval_s=body.interval_s, timeout_s=body.timeout_s, retries=body.retries,
        quorum=body.quorum, tags=tuple(body.tags), options=body.options, public=body.public,
    )  # fmt: skip
    return _plain(
        uptime.add_monitor(session, item, actor=principal.as_actor(), scope=principal.scope)
    )


@router.get("/monitors/{monitor_id}", summary="A monitor, its state and availability")
def show_monitor(
    monitor_id: Id, session: SessionDep, principal: PrincipalDep, found: HistoryDep,
    days: Annotated[int, Query(ge=1, le=3650)] = 1,
) -> dict[str, Any]:  # fmt: skip
    item = uptime.get_monitor(session, monitor_id, principal.scope)  # others': 404 first
    principal.require("uptime:read")
    state, since = uptime.monitor_state(session, monitor_id, principal.scope)
    now = utcnow()
    counts = of_monitors(found.counts(now - timedelta(days=days), now, now=now), [item.id])
    every = "1m" if days <= 1 else ("1h" if days <= 30 else "1d")
    return {
        "monitor": _plain(item), "state": state, "since": _plain(since),
        "availability": _plain(availability(counts)),
        "series": series(counts, every).with_columns(pl.col("minute").dt.to_string()).to_dicts(),
    }  # fmt: skip


class PauseIn(BaseModel):
    paused: bool = True


@router.post("/monitors/{monitor_id}/pause", summary="Pause or resume a monitor")
def pause_monitor(
    monitor_id: Id, body: PauseIn, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    item = uptime.get_monitor(session, monitor_id, principal.scope)
    principal.require("uptime:write", item.org)
    done = uptime.set_paused(session, monitor_id, body.paused, actor=principal.as_actor(),
                             scope=principal.scope)  # fmt: skip
    return _plain(done)


class SloIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    org: Code
    service: Name
    target: float = Field(default=0.9999, ge=0.5, lt=1.0)
    period_days: int = Field(default=30, ge=1, le=366)


@router.get("/slos", summary="SLOs: availability, error budget left, burn rates")
def list_slos(session: SessionDep, principal: Reader, found: HistoryDep) -> list[dict[str, Any]]:
    slos = uptime.list_slos(session, principal.scope)
    return [_plain(s) for s in slo_status(session, found, slos, utcnow())]


@router.post("/slos", status_code=status.HTTP_201_CREATED, summary="Set an SLO")
def add_slo(body: SloIn, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    org = writable_org(principal, body.org)
    slo = uptime.Slo(org, body.service, body.target, body.period_days)
    return _plain(uptime.add_slo(session, slo, actor=principal.as_actor(), scope=principal.scope))


@router.get("/slos/{slo_id}", summary="An SLO's status and its budget burn per day")
def show_slo(
    slo_id: Id, session: SessionDep, principal: PrincipalDep, found: HistoryDep
) -> dict[str, Any]:
    slo = uptime.get_slo(session, slo_id, principal.scope)  # others': 404 first
    principal.require("uptime:read")
    now = utcnow()
    [status_now] = slo_status(session, found, [slo], now)
    burn = slo_burn(session, found, slo, now).with_columns(pl.col("minute").dt.to_string())
    return {"status": _plain(status_now), "burn": burn.to_dicts()}


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    org: Code
    service: Name
    title: Line
    impact: str = Field(default="major", max_length=16)
    public: bool = True
    text: str = Field(default="", max_length=5000)


class UpdateIn(BaseModel):
    status: str = Field(max_length=16)
    text: str = Field(default="", max_length=5000)


@router.get("/incidents", summary="Incidents the caller sees, newest first")
def list_incidents(session: SessionDep, principal: Reader) -> list[dict[str, Any]]:
    return [_plain(i) for i in uptime.list_incidents(session, principal.scope)]


@router.post("/incidents", status_code=status.HTTP_201_CREATED, summary="Open an incident")
def open_incident(body: IncidentIn, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    org = writable_org(principal, body.org)
    made = uptime.open_incident(
        session, org, body.service, body.title, actor=principal.as_actor(), scope=principal.scope,
        impact=body.impact, public=body.public, text=body.text,
    )  # fmt: skip
    return _plain(made)


@router.get("/incidents/{incident_id}", summary="An incident and its updates")
def show_incident(incident_id: Id, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    found = uptime.get_incident(session, incident_id, principal.scope)  # others': 404 first
    principal.require("uptime:read")
    return _plain(found)


@router.post("/incidents/{incident_id}/updates", status_code=201, summary="Update an incident")
def update_incident(
    incident_id: Id, body: UpdateIn, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    found = uptime.get_incident(session, incident_id, principal.scope)
    principal.require("uptime:write", found.org)
    done = uptime.update_incident(session, incident_id, body.status, body.text,
                                  actor=principal.as_actor(), scope=principal.scope)  # fmt: skip
    return _plain(done)


@router.get("/report", summary="A service's SLA report for a month")
def report(
    session: SessionDep, principal: PrincipalDep, found: HistoryDep,
    service: Annotated[str, Query(max_length=120, pattern=PRINTABLE)],
    period: Annotated[str, Query(max_length=7, description="YYYY-MM")],
) -> dict[str, Any]:  # fmt: skip
    made = sla_report(session, found, service, period, principal.scope, utcnow())  # 404 first
    principal.require("uptime:read")
    return _plain(made)


@router.get("/traffic", summary="A service's SLI from real users' traffic (boundary logs)")
def traffic(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep,
    service: Annotated[str, Query(max_length=120, pattern=PRINTABLE)],
    org: Annotated[str | None, Query(max_length=16, pattern=PRINTABLE)] = None,
    days: Annotated[int, Query(ge=1, le=400)] = 30,
) -> dict[str, Any]:  # fmt: skip
    """Requests and 5xx answers to the service's hosts in the boundary's web and proxy
    logs, of the organisations the caller sees: per host, per day and in all."""
    from bastion.slis import service_sli

    found = service_sli(session, settings.archive_dir, service, principal.scope, utcnow(),
                        org=org, days=days)  # 404 first  # fmt: skip
    principal.require("uptime:read")
    return _plain(found)


@router.get("/certificates", summary="Certificates found expiring and told, newest first")
def certificates(session: SessionDep, principal: Reader) -> list[dict[str, Any]]:
    from bastion.uptime.certificates import list_notices

    return [_plain(n) for n in list_notices(session, principal.scope)]


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
def metrics(session: SessionDep, principal: Reader, found: HistoryDep) -> str:
    """The probes' and SLOs' figures the caller sees, in the Prometheus text format."""
    from bastion.uptime.reports import metrics as text

    return text(session, found, principal.scope, utcnow())


class ResultIn(BaseModel):
    monitor: int = Field(ge=1)
    at: str = Field(max_length=40)
    ok: bool
    latency_ms: float = Field(ge=0)
    status: int | None = None
    error: str = Field(default="", max_length=300)


class ResultsIn(BaseModel):
    agent: str = Field(max_length=64)
    location: str = Field(default="", max_length=120)
    batch: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
    results: list[ResultIn] = Field(max_length=20_000)


@router.post("/results", status_code=202, summary="An agent's results, for agents without NATS")
def post_results(body: ResultsIn, session: SessionDep, principal: PrincipalDep,
                 found: HistoryDep) -> dict[str, int]:  # fmt: skip
    if not principal.can_nationally("uptime:write"):
        principal.require("uptime:write", "*national*")
    name = uptime.agent_name(body.agent)
    frame = pl.DataFrame([r.model_dump() for r in body.results]).with_columns(
        pl.col("at").str.to_datetime(time_zone="UTC"), agent=pl.lit(name)
    ) if body.results else pl.DataFrame()  # fmt: skip
    if frame.height:
        found.append_raw(frame, f"{name}-{body.batch}")
    seen(session, name, body.location, frame.height, utcnow())
    return {"accepted": frame.height}
