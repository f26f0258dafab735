"""What uptime shows: availability over any period, SLO status, SLA reports, status pages, metrics.

Everything here reads (history and tables) and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.core.errors import InputError, NotFoundError
from bastion.core.scope import Scope
from bastion.core.timeutil import as_utc
from bastion.store.membership import one_of
from bastion.uptime.centre import monitor_frame
from bastion.uptime.domain import Monitor
from bastion.uptime.history import History
from bastion.uptime.incidents import Incident, list_incidents
from bastion.uptime.models import BurnAlertRow, MonitorRow, StatusPageRow
from bastion.uptime.service import list_maintenance, list_monitors, list_slos
from bastion.uptime.slo import Budget, Slo, budget, burn_rates, burn_series, slo_frame


@dataclass(frozen=True)
class Availability:
    checks: int
    down: int
    maintenance: int
    availability: float | None
    latency_ms: float | None


def availability(frame: pl.DataFrame) -> Availability:
    """Sum history rows into one availability figure (None with no checks)."""
    checks, down = int(frame["checks"].sum()), int(frame["down"].sum())
    n = int(frame["latency_n"].sum())
    return Availability(
        checks, down, int(frame["maintenance"].sum()),
        None if checks == 0 else 1.0 - down / checks,
        None if n == 0 else float(frame["latency_sum"].sum()) / n,
    )  # fmt: skip


def series(frame: pl.DataFrame, every: str) -> pl.DataFrame:
    """Return availability and mean latency per period of ``every`` (for charts)."""
    return (
        frame.with_columns(pl.col("minute").dt.truncate(every))
        .group_by("minute")
        .agg(pl.col("checks", "down", "latency_sum", "latency_n").sum())
        .sort("minute")
        .with_columns(
            availability=pl.when(pl.col("checks") > 0).then(1 - pl.col("down") / pl.col("checks")),
            latency_ms=pl.when(pl.col("latency_n") > 0).then(
                pl.col("latency_sum") / pl.col("latency_n")
            ),
        )
        .select("minute", "checks", "down", "availability", "latency_ms")
    )


def of_monitors(frame: pl.DataFrame, ids: Sequence[int]) -> pl.DataFrame:
    return frame.filter(pl.col("monitor").is_in(list(ids)))


@dataclass(frozen=True)
class SloStatus:
    slo: Slo
    budget: Budget
    burn: dict[str, float]
    firing: dict[str, bool]
    alert: str | None  # the open burn alert's severity


def slo_status(
    session: Session, history: History, slos: Sequence[Slo], now: datetime
) -> list[SloStatus]:
    """Return each SLO's budget over its period and its burn rates now (one evaluation)."""
    if not slos:
        return []
    monitors = list_monitors(session, Scope.everything())
    frame = monitor_frame(monitors)
    longest = max(s.period_days for s in slos)
    counts = history.counts(now - timedelta(days=longest), now + timedelta(minutes=1), now=now)
    rates = {
        int(r["slo"]): r
        for r in burn_rates(history.recent(now), frame, slo_frame(slos), now).iter_rows(named=True)
    }
    joined = counts.join(frame.select("monitor", "org", "service"), on="monitor")
    open_alerts = dict(
        session.execute(
            select(BurnAlertRow.slo_id, BurnAlertRow.severity).where(
                BurnAlertRow.cleared_at.is_(None)
            )
        ).all()
    )
    found = []
    for slo in slos:
        mine = joined.filter(
            (pl.col("org") == slo.org) & (pl.col("service") == slo.service)
            & (pl.col("minute") >= now - timedelta(days=slo.period_days))
        )  # fmt: skip
        rate = rates[slo.id]
        found.append(SloStatus(
            slo, budget(slo, int(mine["checks"].sum()), int(mine["down"].sum())),
            {k: round(float(v), 3) for k, v in rate.items() if k.startswith("burn_")},
            {k: bool(v) for k, v in rate.items() if ":" in k},
            open_alerts.get(slo.id),
        ))  # fmt: skip
    return found


def slo_burn(session: Session, history: History, slo: Slo, now: datetime) -> pl.DataFrame:
    """Return the SLO's budget spent per day over its period and what remains after each."""
    ids = [
        m.id for m in list_monitors(session, Scope.everything(), service=slo.service, org=slo.org)
    ]
    counts = history.counts(
        now - timedelta(days=slo.period_days), now + timedelta(minutes=1), now=now
    )
    return burn_series(of_monitors(counts, ids), slo, "1d")


# SLA reports -------------------------------------------------------------------------
@dataclass(frozen=True)
class MonitorLine:
    monitor: str
    kind: str
    availability: float | None
    checks: int
    down: int
    latency_ms: float | None


@dataclass(frozen=True)
class SlaReport:
    org: str
    service: str
    period: str
    start: datetime
    end: datetime
    availability: float | None
    target: float | None
    met: bool | None
    downtime_minutes: float
    monitors: tuple[MonitorLine, ...]
    incidents: tuple[Incident, ...]


def month(period: str) -> tuple[datetime, datetime]:
    """Return the start and end of a month given as ``YYYY-MM``."""
    if not re.fullmatch(r"\d{4}-\d{2}", period):
        msg = f"a period is a month as YYYY-MM (2026-11); not {period!r}"
        raise InputError(msg)
    year, number = int(period[:4]), int(period[5:])
    if not 1 <= number <= 12:
        msg = f"no month {number} in {period!r}"
        raise InputError(msg)
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=UTC)
    return start, end


def sla_report(
    session: Session, history: History, service: str, period: str, scope: Scope, now: datetime,
    *, org: str | None = None,
) -> SlaReport:  # fmt: skip
    """Return a service's availability over a month against its SLO, monitor by monitor."""
    start, end = month(period)
    monitors = list_monitors(session, scope, service=service, org=org)
    if not monitors:
        msg = f"no service {service!r}"
        raise NotFoundError(msg)
    owner = monitors[0].org
    monitors = [m for m in monitors if m.org == owner]
    counts = history.counts(start, end, now=now)
    lines = []
    for item in monitors:
        figure = availability(of_monitors(counts, [item.id]))
        lines.append(MonitorLine(item.name, item.kind.value, figure.availability, figure.checks,
                                 figure.down, figure.latency_ms))  # fmt: skip
    whole = availability(of_monitors(counts, [m.id for m in monitors]))
    slos = [s for s in list_slos(session, scope) if s.org == owner and s.service == service]
    target = max((s.target for s in slos), default=None)
    minutes = (min(end, as_utc(now)) - start).total_seconds() / 60
    downtime = 0.0 if whole.availability is None else (1 - whole.availability) * max(minutes, 0)
    incidents = [i for i in list_incidents(session, scope, services=[service])
                 if start <= as_utc(i.opened_at) < end]  # fmt: skip
    return SlaReport(
        owner, service, period, start, end, whole.availability, target,
        None if target is None or whole.availability is None else whole.availability >= target,
        round(downtime, 2), tuple(lines), tuple(incidents),
    )  # fmt: skip


def _percent(value: float | None) -> str:
    return "no checks" if value is None else f"{value * 100:.4f}%"


def report_lines(report: SlaReport) -> list[str]:
    """Return the report as lines of text (the CLI's and the PDF's)."""
    lines = [
        f"SLA report: {report.org} {report.service}, {report.period}",
        f"Availability: {_percent(report.availability)}"
        + (f" against a target of {report.target * 100:g}%" if report.target else "")
        + ("" if report.met is None else (" (met)" if report.met else " (MISSED)")),
        f"Downtime: {report.downtime_minutes:.1f} minutes",
        "",
        "Monitors:",
    ]
    lines += [
        f"  {m.monitor} ({m.kind}): {_percent(m.availability)} of {m.checks:,} checks, "
        f"{m.down:,} down" + (f", mean {m.latency_ms:.1f} ms" if m.latency_ms is not None else "")
        for m in report.monitors
    ]
    lines += ["", f"Incidents: {len(report.incidents)}"]
    lines += [
        f"  {i.opened_at:%Y-%m-%d %H:%M} {i.title} ({i.status.value})" for i in report.incidents
    ]
    return lines


def report_pdf(report: SlaReport) -> bytes:
    """Return the report as a one-page PDF (fpdf2, pure Python)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(
        0,
        10,
        f"SLA report: {report.org} {report.service}, {report.period}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", size=10)
    for line in report_lines(report)[1:]:
        pdf.cell(
            0, 6, line.encode("latin-1", "replace").decode("latin-1"), new_x="LMARGIN", new_y="NEXT"
        )
    return bytes(pdf.output())


# Status pages ------------------------------------------------------------------------
@dataclass(frozen=True)
class ServiceStatus:
    service: str
    state: str  # operational, degraded, down, unknown
    days: tuple[tuple[date, float | None], ...]  # 90 days of availability


@dataclass(frozen=True)
class StatusPage:
    slug: str
    title: str
    services: tuple[ServiceStatus, ...]
    incidents: tuple[Incident, ...]
    maintenance: tuple[tuple[str, datetime, int, str], ...]  # title, next start, minutes, repeat
    updated: datetime


def _state(states: Sequence[str]) -> str:
    if not states or all(s == "unknown" for s in states):
        return "unknown"
    down = sum(s == "down" for s in states)
    return "operational" if down == 0 else ("down" if down == len(states) else "degraded")


def status_page(session: Session, history: History, slug: str, now: datetime) -> StatusPage:
    """Return a public status page: only its owner's public monitors of the page's services."""
    page = session.scalar(select(StatusPageRow).where(StatusPageRow.slug == slug))
    if page is None:
        msg = f"no status page {slug!r}"
        raise NotFoundError(msg)
    owner = Scope.of([page.org_code])
    public = [m for m in list_monitors(session, owner) if m.public and m.service in page.services]
    states = dict(session.execute(select(MonitorRow.id, MonitorRow.state).where(
        MonitorRow.id.in_([m.id for m in public]))).all())  # fmt: skip
    first = (as_utc(now) - timedelta(days=89)).replace(hour=0, minute=0, second=0, microsecond=0)
    counts = history.counts(first, now + timedelta(minutes=1), now=now)
    services = []
    for name in page.services:
        mine = [m for m in public if m.service == name]
        per_day = series(of_monitors(counts, [m.id for m in mine]), "1d")
        known = {
            d.date(): a for d, a in zip(per_day["minute"], per_day["availability"], strict=True)
        }
        days = tuple((first.date() + timedelta(days=i), known.get(first.date() + timedelta(days=i)))
                     for i in range(90))  # fmt: skip
        services.append(
            ServiceStatus(name, _state([states.get(m.id, "unknown") for m in mine]), days)
        )
    incidents = [i for i in list_incidents(session, owner, services=page.services, public_only=True,
                                           since=first) if i.org == page.org_code]  # fmt: skip
    windows = [
        (
            w.title or "Maintenance",
            w.starts_at,
            int(w.duration.total_seconds() // 60),
            w.repeat.value,
        )
        for w in list_maintenance(session, owner)
        if (w.service in page.services or any(m.id == w.monitor_id for m in public))
        and (w.repeat.value != "none" or as_utc(w.starts_at) + w.duration > as_utc(now))
    ]
    return StatusPage(
        slug, page.title, tuple(services), tuple(incidents), tuple(windows), as_utc(now)
    )


def status_pages(session: Session, scope: Scope) -> list[tuple[str, str, str]]:
    """Return (slug, title, organisation) of the status pages ``scope`` owns."""
    query = select(StatusPageRow).order_by(StatusPageRow.slug)
    if scope.codes is not None:
        query = query.where(one_of(StatusPageRow.org_code, scope.codes))
    return [(r.slug, r.title, r.org_code) for r in session.scalars(query)]


# Prometheus ---------------------------------------------------------------------------
def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def metrics(session: Session, history: History, scope: Scope, now: datetime) -> str:
    """Return the probes' and SLOs' figures in the Prometheus text format."""
    monitors: list[Monitor] = list_monitors(session, scope)
    states = dict(session.execute(select(MonitorRow.id, MonitorRow.state)).all())
    recent = history.counts(now - timedelta(minutes=5), now + timedelta(minutes=1), now=now)
    out = [
        "# HELP bastion_uptime_up Whether a quorum of vantage points finds the monitor up.",
        "# TYPE bastion_uptime_up gauge",
    ]
    for m in monitors:
        labels = f'monitor="{_label(m.name)}",org="{m.org}",service="{_label(m.service)}"'
        out.append(f"bastion_uptime_up{{{labels}}} {int(states.get(m.id) == 'up')}")
    out += ["# HELP bastion_uptime_latency_ms Mean latency of good probes over 5 minutes.",
            "# TYPE bastion_uptime_latency_ms gauge"]  # fmt: skip
    for m in monitors:
        figure = availability(of_monitors(recent, [m.id]))
        if figure.latency_ms is not None:
            labels = f'monitor="{_label(m.name)}",org="{m.org}"'
            out.append(f"bastion_uptime_latency_ms{{{labels}}} {figure.latency_ms:.3f}")
    statuses = slo_status(session, history, list_slos(session, scope), now)
    out += ["# HELP bastion_uptime_slo_budget_remaining Share of the error budget left.",
            "# TYPE bastion_uptime_slo_budget_remaining gauge",
            "# HELP bastion_uptime_slo_burn_rate Error rate over a window divided by the budget.",
            "# TYPE bastion_uptime_slo_burn_rate gauge"]  # fmt: skip
    for status in statuses:
        labels = (
            f'slo="{status.slo.id}",org="{status.slo.org}",service="{_label(status.slo.service)}"'
        )
        out.append(f"bastion_uptime_slo_budget_remaining{{{labels}}} {status.budget.remaining:.6f}")
        for window, value in status.burn.items():
            out.append(f'bastion_uptime_slo_burn_rate{{{labels},window="{window[5:]}"}} {value}')
    return "\n".join(out) + "\n"
