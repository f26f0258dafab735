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


def load_demo_once(opened: Store, settings: Settings, seed: int = 7) -> list[str]:
    """Load the demo federation and ingest a labelled day of its traffic, each only once.

    A database that already has organisations keeps them; a data directory that
    has ingested anything is not given the demo day again. Bastion's demo Sigma rules
    go into the rules folder unless it already holds rules.
    """
    from bastion import demo
    from bastion.boundary.checkpoints import list_sources
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
            report = demo.load_federation(
                session, demo.generate_federation(seed, INIT_SIZE), actor=actor()
            )
            said.append(f"loaded the demo federation: {report.created} organisations")
        already = bool(list_sources(session))
    if already or existing:
        return said
    from bastion.demo.scanning import scan_demo

    said.append(scan_demo(opened, settings, actor()))
    with opened.session() as session:
        orgs, _ = list_organisations(session)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    manifest, stats = generate_and_ingest_day(
        opened,
        settings,
        orgs,
        settings.data_dir / "demo-traffic",
        events=DEMO_DAY_EVENTS,
        day=yesterday,
        seed=seed,
        actor=actor(),
    )
    alerts = sum(s.alerts_created for s in stats)
    said.append(
        f"ingested a demo day ({yesterday}): {sum(s.events for s in stats):,} events from "
        f"{len(stats)} files, {len(manifest.attacks)} planted attacks, {alerts} alerts"
    )
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
