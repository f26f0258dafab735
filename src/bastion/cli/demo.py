"""`bastion demo`: the synthetic federation and a labelled day of its boundary traffic."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bastion.cli.context import actor, command_group, in_session
from bastion.cli.output import JSON_OPTION, print_record, print_rows, table_lines
from bastion.core.errors import ConflictError

if TYPE_CHECKING:
    from bastion.core.settings import Settings
    from bastion.demo import TrafficManifest
    from bastion.store import Store

app = command_group(
    "Load the synthetic demo federation; write a labelled day of its boundary traffic."
)

SEED_OPTION = typer.Option(7, "--seed", help="the same seed always gives the same result")
INIT_SIZE = "default"  # what `bastion init --demo` loads


DEMO_DAY_EVENTS = 200_000  # what `bastion init --demo` ingests: about ten seconds


def load_demo_once(
    opened: Store,
    settings: Settings,
    seed: int = 7,
    *,
    size: str | int | None = None,
    events: int | None = None,
) -> list[str]:
    """Load the demo federation and ingest a labelled day of its traffic, each only once.

    A database that already has organisations keeps them; a data directory that
    has ingested anything is not given the demo day again. Bastion's demo Sigma rules
    go into the rules folder unless it already holds rules. ``size`` and ``events``
    are the federation's (see ``generate_federation``) and the day's; by default
    ``INIT_SIZE`` and ``DEMO_DAY_EVENTS``, read when called.
    """
    size = INIT_SIZE if size is None else size
    events = DEMO_DAY_EVENTS if events is None else events
    from bastion import demo
    from bastion.boundary.checkpoints import list_sources
    from bastion.demo.assurance import load_demo_assurance
    from bastion.demo.day import generate_and_ingest_day
    from bastion.demo.detection import install_demo_rules
    from bastion.orgs import count_organisations, list_organisations

    said = []
    installed = install_demo_rules(settings.rules_dir)
    if installed:
        said.append(f"installed {len(installed)} demo Sigma rules in {settings.rules_dir}")
    with opened.session() as session:
        existing = count_organisations(session)
        if existing:
            said.append(
                f"demo federation not loaded: the database already has {existing} organisations"
            )
        else:
            generated = demo.generate_federation(seed, size)
            report = demo.load_federation(session, generated, actor=actor())
            said.append(f"loaded the demo federation: {report.created} organisations")
            year = load_demo_assurance(session, generated, actor=actor())
            said.append(
                f"loaded a demo assurance year: {year.returns:,} returns, readiness "
                f"{year.readiness_first:.0f}% -> {year.readiness_last:.0f}% over {year.scores} scores"
            )
        already = bool(list_sources(session))
    if already or existing:
        return said
    from bastion.demo.drift import plant_demo_drift
    from bastion.demo.scanning import scan_demo

    said.append(scan_demo(opened, settings, actor()))
    said.append(plant_demo_drift(opened, actor()))  # after the scan: its findings are the evidence
    with opened.session() as session:
        orgs, _ = list_organisations(session)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    manifest, stats = generate_and_ingest_day(
        opened,
        settings,
        orgs,
        settings.data_dir / "demo-traffic",
        events=events,
        day=yesterday,
        seed=seed,
        actor=actor(),
    )
    alerts = sum(s.alerts_created for s in stats)
    said.append(
        f"ingested a demo day ({yesterday}): {sum(s.events for s in stats):,} events from "
        f"{len(stats)} files, {len(manifest.attacks)} planted attacks, {alerts} alerts"
    )
    from bastion.demo.behaviour_hunt import hunt_demo_day

    with opened.session() as session:
        found = hunt_demo_day(session, settings.archive_dir, yesterday, manifest.attacks, actor())
    said.append(f"hunted the day for behaviour: {found.alerting} alerting results")
    from bastion.demo.soc import open_demo_cases

    with opened.session() as session:
        made = open_demo_cases(session, manifest.attacks, actor=actor())
    said.append(f"opened {len(made)} demo cases from the day's alert groups")
    return said


@app.command("federation")
def federation(
    seed: int = SEED_OPTION,
    size: str = typer.Option(
        "default", "--size", help="small (~60), default (~430) or a number of organisations"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Load the demo federation into the database; running it again updates, never duplicates."""
    from bastion import demo

    orgs = demo.generate_federation(seed, size)
    try:
        report = in_session(demo.load_federation, orgs, actor=actor())
    except ConflictError as exc:
        msg = (
            f"{exc}: the database holds another federation (a different --seed or --size?); "
            "load the demo into an empty database"
        )
        raise ConflictError(msg) from exc
    print_rows(
        sorted(report.by_type.items(), key=lambda t: -t[1]),
        [("TYPE", lambda t: t[0]), ("ORGANISATIONS", lambda t: t[1])],
        as_json=as_json,
        data={"seed": seed, "size": size, **report.__dict__},
        footer=f"demo federation (seed {seed}): {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged",
    )


@app.command("traffic")
def traffic(
    out_dir: Path = typer.Argument(
        help="folder to write the log files, indicators.csv and labels.json"
    ),
    seed: int = SEED_OPTION,
    events: int = typer.Option(200_000, "--events", "-n", min=1, help="event lines in all"),
    day: datetime | None = typer.Option(
        None,
        "--day",
        formats=["%Y-%m-%d"],
        help="the UTC day (default: the demo's own day, the same on every run)",
    ),
    size: str = typer.Option(
        "default", "--size", help="size of the demo federation to make traffic for"
    ),
    from_store: bool = typer.Option(
        False,
        "--from-store",
        help="use the organisations in the database instead of the demo federation",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Write a labelled day of boundary traffic (PAN-OS, FortiGate, Zeek, nginx, Squid)."""
    from bastion import demo
    from bastion.orgs import list_organisations

    if from_store:
        orgs, _ = in_session(list_organisations)
    else:
        orgs = demo.generate_federation(seed, size)
    when = demo.DEFAULT_DAY if day is None else date(day.year, day.month, day.day)
    manifest = demo.generate_traffic(orgs, out_dir, seed=seed, events=events, day=when)
    print_record(
        manifest,
        _traffic_lines,
        as_json=as_json,
        data={"out_dir": str(out_dir), **manifest.to_json()},
        footer=f"wrote {manifest.events:,} events for {manifest.day} to {out_dir}; "
        f"indicators: {manifest.indicators.name}, labels: {manifest.labels.name}",
    )


def _traffic_lines(manifest: TrafficManifest) -> Iterator[str]:
    yield from table_lines(
        ["FORMAT", "FILE", "EVENTS", "PLANTED"],
        [(f.format, f.path, f.events, f.attack_events) for f in manifest.files],
    )
    yield ""
    yield from table_lines(
        ["ATTACK", "ORGANISATION", "HOST", "ACTION", "EVENTS", "FILE", "INDICATOR"],
        [
            (a.kind, a.organisation, a.host_ip, a.action, a.events, a.file, a.indicator or "-")
            for a in manifest.attacks
        ],
    )


def demo_uptime_once(opened: Store, settings: Settings) -> list[str]:
    """Register the uptime demo (national services on local stand-ins) and replay two hours."""
    from bastion.demo.uptime import load_demo_uptime
    from bastion.orgs import list_organisations
    from bastion.uptime import config
    from bastion.uptime.notify import Notifier

    with opened.session() as session:
        found, _ = list_organisations(session)
    members = [o.code for o in found if o.type.value == "trust"][:3] or [o.code for o in found][:3]
    if not members:
        return ["uptime demo not loaded: no organisations"]
    # The replay notifies nobody: its e-mails would be about a past that did not happen.
    centre = config.centre(opened, settings, Notifier())
    return load_demo_uptime(opened, centre, members, actor())


@app.command("uptime")
def uptime_demo(
    seconds: float = typer.Option(300.0, "--seconds", help="how long to probe"),
    cycle: float = typer.Option(10.0, "--cycle", help="seconds between the centre's cycles"),
) -> None:
    """Serve the national-service stand-ins on 127.0.0.1 and probe them from three agents."""
    from bastion.cli.context import settings, store
    from bastion.demo.uptime import run_demo_uptime
    from bastion.uptime import config

    opened = store()
    probes = run_demo_uptime(opened, config.centre(opened, settings()), seconds, cycle)
    typer.echo(f"{probes:,} probes from three vantage points")
