"""`bastion uptime`: monitors, probes, vantage-point agents, the centre, SLOs, SLA reports."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bastion.cli.context import (
    BY_OPTION,
    actor,
    command_group,
    everything,
    in_session,
    minute,
    moment,
    settings,
)
from bastion.cli.output import CSV_OPTION, JSON_OPTION, Column, fields, print_record, print_rows
from bastion.core.errors import InputError

if TYPE_CHECKING:
    from bastion.uptime import Incident, Monitor, ProbeResult
    from bastion.uptime.reports import SloStatus

app = command_group(
    "Live-service availability: monitors, probes, agents, SLOs, incidents, reports."
)
monitors_app = command_group("Monitors: what is probed, how often, whose.")
slo_app = command_group("Service-level objectives and their error budgets.")
incidents_app = command_group("Incidents on services: open, update, resolve, list.")
maintenance_app = command_group("Maintenance windows: probes inside them spend no error budget.")
pages_app = command_group("Public status pages of service groups.")
app.add_typer(monitors_app, name="monitors")
app.add_typer(slo_app, name="slo")
app.add_typer(incidents_app, name="incidents")
app.add_typer(maintenance_app, name="maintenance")
app.add_typer(pages_app, name="pages")

NATS_OPTION = typer.Option("nats://127.0.0.1:4222", "--nats", help="NATS JetStream server")


def _options(values: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep:
            msg = f"an option is NAME=VALUE (keyword=ok); not {value!r}"
            raise InputError(msg)
        found[key.strip()] = text
    return found


MONITOR_COLUMNS: list[Column[Monitor]] = [
    *fields("id", "org", "service", "name", "kind=TYPE", "target"),
    ("EVERY", lambda m: f"{m.interval_s}s"),
    ("PAUSED", lambda m: "yes" if m.paused else ""),
]


@monitors_app.command("add")
def monitors_add(
    name: str = typer.Argument(..., help="the monitor's name (unique in its organisation)"),
    kind: str = typer.Option(..., "--type", help="http, tcp, dns, tls, icmp or push"),
    target: str = typer.Option("", "--target", help="URL, host:port or domain name (push: none)"),
    org: str = typer.Option(..., "--org", help="the owning organisation"),
    service: str = typer.Option(..., "--service", help="the service it belongs to"),
    interval: int = typer.Option(60, "--interval", help="seconds between probes (10 or more)"),
    timeout: float = typer.Option(10.0, "--timeout", help="seconds a probe may take"),
    retries: int = typer.Option(0, "--retries", help="retries before a probe counts as down"),
    quorum: int = typer.Option(2, "--quorum", help="vantage points that must agree it is down"),
    tag: list[str] = typer.Option([], "--tag", help="a tag; dep:NAME names a shared dependency"),
    option: list[str] = typer.Option([], "--option", help="NAME=VALUE, e.g. keyword=ok"),
    public: bool = typer.Option(False, "--public", help="show it on the owner's status pages"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a monitor."""
    from bastion import uptime

    item = uptime.monitor(name, kind, target, org=org, service=service, interval_s=interval,
                          timeout_s=timeout, retries=retries, quorum=quorum, tags=tuple(tag),
                          options=_options(option), public=public)  # fmt: skip
    made = in_session(uptime.add_monitor, item, actor=actor(by), scope=everything())
    print_rows([made], MONITOR_COLUMNS, as_json, data=made)


@monitors_app.command("list")
def monitors_list(
    org: str | None = typer.Option(None, "--org", help="only this organisation's"),
    service: str | None = typer.Option(None, "--service", help="only this service's"),
    as_json: bool = JSON_OPTION,
    as_csv: bool = CSV_OPTION,
) -> None:
    """List monitors."""
    from bastion import uptime

    found = in_session(uptime.list_monitors, everything(), org=org, service=service)
    print_rows(found, MONITOR_COLUMNS, as_json, as_csv, noun="monitors")


@monitors_app.command("show")
def monitors_show(
    monitor: str = typer.Argument(..., help="the monitor's id or name"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a monitor, its state and its availability over 24 hours and 30 days."""
    from bastion.core.timeutil import utcnow
    from bastion.uptime import config, get_monitor, monitor_state
    from bastion.uptime.reports import availability, of_monitors

    now = utcnow()
    history = config.history(settings())

    def gather(session: Any) -> dict[str, Any]:
        item = get_monitor(session, monitor, everything())
        state, since = monitor_state(session, item.id, everything())
        counts = history.counts(now - timedelta(days=30), now, now=now)
        mine = of_monitors(counts, [item.id])
        day = availability(mine.filter(mine["minute"] >= now - timedelta(days=1)))
        return {"monitor": item, "state": state, "since": since, "day": day,
                "month": availability(mine)}  # fmt: skip

    found = in_session(gather)

    def lines(data: dict[str, Any]) -> list[str]:
        item: Monitor = data["monitor"]
        shown = [f"{item.id} {item.name} ({item.kind.value}) {item.target}",
                 f"{item.org} / {item.service}, every {item.interval_s}s, quorum {item.quorum}",
                 f"state: {data['state']} since {minute(data['since'])}"]  # fmt: skip
        for label in ("day", "month"):
            figure = data[label]
            value = "no checks" if figure.availability is None else f"{figure.availability:.4%}"
            shown.append(f"availability over the last {label}: {value} ({figure.checks} checks)")
        return shown

    print_record(found, lines, as_json=as_json)


@monitors_app.command("pause")
def monitors_pause(
    monitor: str = typer.Argument(..., help="the monitor's id or name"),
    resume: bool = typer.Option(False, "--resume", help="resume it instead"),
    by: str | None = BY_OPTION,
) -> None:
    """Pause a monitor (no probes, no budget spent), or resume it."""
    from bastion import uptime

    done = in_session(uptime.set_paused, monitor, not resume, actor=actor(by), scope=everything())
    typer.echo(f"{done.name}: {'paused' if done.paused else 'resumed'}")


def _probe_lines(result: ProbeResult) -> list[str]:
    state = "up" if result.ok else f"DOWN: {result.error}"
    parts = [f"{k} {v:.1f} ms" for k, v in result.timings.__dict__.items() if v is not None]
    lines = [
        f"{state} in {result.latency_ms:.1f} ms"
        + (f" (HTTP {result.status})" if result.status else "")
    ]
    if parts:
        lines.append("timings: " + ", ".join(parts))
    if result.days_left is not None:
        lines.append(f"certificate: {result.days_left:.1f} days left")
    return lines


@app.command("probe")
def probe_now(
    monitor: str = typer.Argument(..., help="the monitor's id or name"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Probe a monitor once, now, from here, and print what was found."""
    import httpx

    from bastion import uptime

    item = in_session(uptime.get_monitor, monitor, everything())
    if item.kind is uptime.MonitorKind.PUSH:
        msg = "a push monitor is not probed: the service calls its heartbeat URL"
        raise InputError(msg)

    async def once() -> ProbeResult:
        async with httpx.AsyncClient() as client:
            return await uptime.probe(item, client, agent="cli")

    result = asyncio.run(once())
    print_record(result, _probe_lines, as_json=as_json)


@app.command("agent")
def agent(
    name: str = typer.Option(..., "--name", help="this vantage point's name (e.g. london-1)"),
    location: str = typer.Option("", "--location", help="where it is (e.g. London, AWS eu-west-2)"),
    nats: str = NATS_OPTION,
    http: str | None = typer.Option(
        None, "--http", help="post results to this centre's /api/v1/uptime/results instead of NATS"
    ),
    duration: float | None = typer.Option(None, "--duration", help="stop after this many seconds"),
    concurrency: int = typer.Option(
        20, "--concurrency", help="probes in flight at most (httpx's pool slows past a few dozen)"
    ),
) -> None:
    """Run a vantage point: probe every monitor and publish the results to NATS (or HTTP).

    With --http the API token is read from BASTION_UPTIME_TOKEN (national uptime:write).
    """
    import os

    import httpx

    from bastion import uptime
    from bastion.uptime import bus

    monitors = in_session(uptime.list_monitors, everything())
    name = uptime.agent_name(name)
    from bastion.uptime.agent import unprobeable

    skipped = unprobeable([m for m in monitors if not m.paused])
    if skipped:
        reason = next(iter(skipped.values()))
        typer.echo(f"warning: {len(skipped)} ICMP monitors are not probed from here: {reason}",
                   err=True)  # fmt: skip

    async def run_http(url: str) -> uptime.AgentStats:
        token = os.environ.get("BASTION_UPTIME_TOKEN", "")
        if not token:
            msg = "--http needs an API token with uptime:write in BASTION_UPTIME_TOKEN"
            raise InputError(msg)
        async with httpx.AsyncClient(timeout=30) as client:
            publish = bus.http_publisher(client, url.rstrip("/") + "/api/v1/uptime/results",
                                         token, name, location)  # fmt: skip
            return await uptime.Agent(name, monitors, publish, concurrency=concurrency).run(
                duration_s=duration
            )

    async def run() -> uptime.AgentStats:
        if http:
            return await run_http(http)
        nc = await bus.connect(nats)
        try:
            js = nc.jetstream()
            await bus.ensure_stream(js)
            publish = bus.publisher(js, uptime.agent_name(name), location)
            return await uptime.Agent(name, monitors, publish, concurrency=concurrency).run(
                duration_s=duration
            )
        finally:
            await nc.close()

    stats = asyncio.run(run())
    typer.echo(f"{stats.probes} probes ({stats.failed} failed) in {stats.batches} batches")


@app.command("centre")
def centre(
    nats: str = NATS_OPTION,
    idle_exit: float | None = typer.Option(None, "--idle-exit", help="stop after this idle time"),
) -> None:
    """Run the centre: take in the agents' results, decide, evaluate SLOs, notify."""
    from bastion.cli.context import store
    from bastion.uptime import bus, config

    the_centre = config.centre(store(), settings())
    handled = asyncio.run(bus.consume(nats, the_centre.ingest, idle_exit_s=idle_exit,
                                      on_idle=the_centre.cycle))  # fmt: skip
    typer.echo(f"{handled} batches taken in")


SLO_COLUMNS: list[Column[SloStatus]] = [
    *fields("slo.id=ID", "slo.org=ORG", "slo.service=SERVICE"),
    ("TARGET", lambda s: f"{s.slo.target:.4%}"),
    (
        "AVAILABILITY",
        lambda s: "" if s.budget.availability is None else f"{s.budget.availability:.4%}",
    ),
    ("BUDGET LEFT", lambda s: f"{s.budget.remaining:.1%}"),
    *fields("alert"),
]


def _statuses(slo_id: int | None = None) -> list[SloStatus]:
    from bastion.core.timeutil import utcnow
    from bastion.uptime import config, get_slo, list_slos
    from bastion.uptime.reports import slo_status

    history = config.history(settings())

    def gather(session: Any) -> list[SloStatus]:
        slos = (
            [get_slo(session, slo_id, everything())] if slo_id else list_slos(session, everything())
        )
        return slo_status(session, history, slos, utcnow())

    return in_session(gather)


@slo_app.command("add")
def slo_add(
    service: str = typer.Argument(..., help="the service"),
    org: str = typer.Option(..., "--org", help="the service's organisation"),
    target: float = typer.Option(0.9999, "--target", help="availability target, e.g. 0.9999"),
    period: int = typer.Option(30, "--period-days", help="the period the budget spans"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Set an availability target for a service."""
    from bastion import uptime

    made = in_session(uptime.add_slo, uptime.Slo(org, service, target, period), actor=actor(by),
                      scope=everything())  # fmt: skip
    print_record(
        made, lambda s: [f"SLO {s.id}: {s.org} {s.service} {s.target:.4%}"], as_json=as_json
    )


@slo_app.command("list")
def slo_list(as_json: bool = JSON_OPTION, as_csv: bool = CSV_OPTION) -> None:
    """List SLOs with their availability and error budget left."""
    print_rows(_statuses(), SLO_COLUMNS, as_json, as_csv, noun="SLOs")


@slo_app.command("show")
def slo_show(
    slo_id: int = typer.Argument(..., help="the SLO's id"), as_json: bool = JSON_OPTION
) -> None:
    """Show an SLO: budget, burn rates over every alert window, rules firing."""
    [status] = _statuses(slo_id)

    def lines(s: SloStatus) -> list[str]:
        shown = [f"SLO {s.slo.id}: {s.slo.org} {s.slo.service}, target {s.slo.target:.4%} "
                 f"over {s.slo.period_days} days", f"error budget left: {s.budget.remaining:.2%}"]  # fmt: skip
        shown += [f"{k[5:]:>4} burn {v:8.3f}x" for k, v in s.burn.items()]
        shown += [f"firing: {k}" for k, v in s.firing.items() if v]
        return shown

    print_record(status, lines, as_json=as_json)


@app.command("traffic")
def traffic(
    service: str = typer.Argument(..., help="the service"),
    org: str | None = typer.Option(None, "--org", help="the service's organisation"),
    days: int = typer.Option(30, "--days", help="the period: this many days to now"),
    as_json: bool = JSON_OPTION,
) -> None:
    """A service's SLI from real users' traffic: 5xx share in the boundary's web/proxy logs."""
    from bastion.core.timeutil import utcnow
    from bastion.slis import TrafficSli, service_sli

    archive = settings().archive_dir
    found = in_session(service_sli, archive, service, everything(), utcnow(), org=org, days=days)

    def lines(sli: TrafficSli) -> list[str]:
        ratio = "no requests" if sli.success_ratio is None else f"{sli.success_ratio:.4%}"
        shown = [f"{sli.org} {sli.service}: {ratio} of {sli.requests:,} requests succeeded "
                 f"({sli.errors:,} answered 5xx) from {sli.start:%Y-%m-%d %H:%M} to "
                 f"{sli.end:%Y-%m-%d %H:%M} UTC"]  # fmt: skip
        if sli.budget_spent is not None and sli.target is not None:
            shown.append(f"error budget of the {sli.target:.4%} SLO spent: {sli.budget_spent:.1%}")
        for h in sli.hosts:
            timing = "" if h.p50_ms is None else (
                f"; of {h.timed:,} timed: p50 {h.p50_ms:.0f} ms, p95 {h.p95_ms:.0f} ms, "
                f"p99 {h.p99_ms:.0f} ms"
            )  # fmt: skip
            shown.append(f"  {h.host}: {h.requests:,} requests, {h.errors:,} 5xx{timing}")
        return shown

    print_record(found, lines, as_json=as_json)


CERTIFICATE_COLUMNS: list[Column[Any]] = [
    *fields("org", "monitor_id=MONITOR", "threshold_days=WITHIN DAYS"),
    ("DAYS LEFT", lambda n: f"{n.days_left:.1f}"),
    *fields("sha256=SHA-256"),
    ("TOLD", lambda n: minute(n.notified_at)),
]


@app.command("certificates")
def certificates(as_json: bool = JSON_OPTION, as_csv: bool = CSV_OPTION) -> None:
    """Certificates found expiring and told, newest first (one row per warning threshold)."""
    from bastion.uptime.certificates import list_notices

    print_rows(in_session(list_notices, everything()), CERTIFICATE_COLUMNS, as_json, as_csv,
               noun="certificate notices")  # fmt: skip


@app.command("report")
def report(
    service: str = typer.Argument(..., help="the service"),
    period: str = typer.Option(..., "--period", help="the month, YYYY-MM"),
    org: str | None = typer.Option(None, "--org", help="the service's organisation"),
    pdf: Path | None = typer.Option(None, "--pdf", help="also write the report as a PDF here"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Print a service's SLA report for a month (availability against its SLO, incidents)."""
    from bastion.core.timeutil import utcnow
    from bastion.uptime import config
    from bastion.uptime.reports import report_lines, report_pdf, sla_report

    history = config.history(settings())
    found = in_session(sla_report, history, service, period, everything(), utcnow(), org=org)
    if pdf is not None:
        pdf.write_bytes(report_pdf(found))
    print_record(found, report_lines, as_json=as_json)


INCIDENT_COLUMNS: list[Column[Incident]] = [
    *fields("id"),
    ("ORG", lambda i: i.org or "national"),
    *fields("service", "status"),
    ("OPENED", lambda i: minute(i.opened_at)),
    *fields("title"),
]


@incidents_app.command("list")
def incidents_list(
    open_only: bool = typer.Option(False, "--open", help="only unresolved ones"),
    as_json: bool = JSON_OPTION,
    as_csv: bool = CSV_OPTION,
) -> None:
    """List incidents, newest first."""
    from bastion import uptime

    found = in_session(uptime.list_incidents, everything(), open_only=open_only)
    print_rows(found, INCIDENT_COLUMNS, as_json, as_csv, noun="incidents")


@incidents_app.command("open")
def incidents_open(
    service: str = typer.Argument(..., help="the service affected"),
    title: str = typer.Option(..., "--title", help="what people see"),
    org: str = typer.Option(..., "--org", help="the service's organisation"),
    impact: str = typer.Option("major", "--impact", help="minor, major or critical"),
    by: str | None = BY_OPTION,
) -> None:
    """Open an incident by hand."""
    from bastion import uptime

    made = in_session(uptime.open_incident, org, service, title, impact=impact, actor=actor(by),
                      scope=everything())  # fmt: skip
    typer.echo(f"incident {made.id} opened")


@incidents_app.command("update")
def incidents_update(
    incident: int = typer.Argument(..., help="the incident's id"),
    status: str = typer.Option(
        ..., "--status", help="investigating, identified, monitoring, resolved"
    ),
    text: str = typer.Option("", "--text", help="what changed"),
    by: str | None = BY_OPTION,
) -> None:
    """Post an update on an incident (resolved closes it)."""
    from bastion import uptime

    done = in_session(uptime.update_incident, incident, status, text, actor=actor(by),
                      scope=everything())  # fmt: skip
    typer.echo(f"incident {done.id}: {done.status.value}")


@maintenance_app.command("add")
def maintenance_add(
    start: str = typer.Option(..., "--start", help="YYYY-MM-DDTHH:MM (UTC)"),
    minutes: int = typer.Option(..., "--minutes", help="how long"),
    repeat: str = typer.Option("none", "--repeat", help="none, daily or weekly"),
    monitor: int | None = typer.Option(None, "--monitor", help="one monitor's id"),
    service: str | None = typer.Option(None, "--service", help="or a whole service"),
    org: str = typer.Option("", "--org", help="the service's organisation"),
    title: str = typer.Option("", "--title", help="what people see"),
    by: str | None = BY_OPTION,
) -> None:
    """Schedule a maintenance window of a monitor or service."""
    from bastion import uptime

    begins = moment(start)
    if begins is None:
        msg = "--start is required"
        raise InputError(msg)
    window = uptime.maintenance(begins, minutes, repeat=repeat, title=title, monitor_id=monitor,
                                service=service, org=org)  # fmt: skip
    made = in_session(uptime.add_maintenance, window, actor=actor(by), scope=everything())
    typer.echo(f"maintenance {made.id} scheduled")


MAINTENANCE_COLUMNS: list[Column[Any]] = [
    *fields("id", "org"),
    ("START", lambda w: minute(w.starts_at)),
    ("MINUTES", lambda w: int(w.duration.total_seconds() // 60)),
    *fields("repeat"),
    ("FOR", lambda w: w.service or f"monitor {w.monitor_id}"),
]


@maintenance_app.command("list")
def maintenance_list(as_json: bool = JSON_OPTION) -> None:
    """List maintenance windows."""
    from bastion import uptime

    found = in_session(uptime.list_maintenance, everything())
    print_rows(found, MAINTENANCE_COLUMNS, as_json, noun="windows")


@pages_app.command("add")
def pages_add(
    slug: str = typer.Argument(..., help="the page's address: /status/<slug>"),
    title: str = typer.Option(..., "--title", help="the page's heading"),
    org: str = typer.Option(..., "--org", help="whose services"),
    service: list[str] = typer.Option(..., "--service", help="a service shown (repeatable)"),
    by: str | None = BY_OPTION,
) -> None:
    """Publish a status page of an organisation's services (public monitors only)."""
    from bastion import uptime

    in_session(
        uptime.add_status_page, slug, title, org, service, actor=actor(by), scope=everything()
    )
    typer.echo(f"/status/{slug}")
