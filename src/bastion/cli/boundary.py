"""`bastion boundary`: ingest logs, listen for syslog, see formats, sources and rejects."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bastion.cli.context import command_group, in_session, settings, store
from bastion.cli.output import JSON_OPTION, Column, fields, print_record, print_rows
from bastion.core.errors import InputError

if TYPE_CHECKING:
    from bastion.boundary.listen import SyslogListener
    from bastion.boundary.pipeline import Pipeline
    from bastion.boundary.source_stats import SourceStats

app = command_group(
    "Protective monitoring: ingest boundary logs, listen for syslog, inspect what was read."
)

INDICATORS_OPTION = typer.Option(
    [], "--indicators", "-i", help="also match indicators from this CSV/JSON file; repeatable"
)


ORG_OPTION = typer.Option(
    None,
    "--org",
    help="organisation owning events no registered network claims (a web server's log)",
)
TIMEZONE_OPTION = typer.Option(
    None,
    "--timezone",
    help="IANA time zone (e.g. Europe/London) of device times written without an offset; "
    "default the boundary_timezone setting (UTC). A time with an offset keeps it",
)
NATS_OPTION = typer.Option("nats://127.0.0.1:4222", "--nats", help="NATS JetStream server URL")


def _pipeline(
    indicator_files: list[Path], org: str | None = None, timezone: str | None = None
) -> Pipeline:
    from bastion.boundary.pipeline import Pipeline

    return Pipeline.open(
        store(), settings(), indicator_files=indicator_files, default_org=org, timezone=timezone
    )


# `bastion boundary ingest` exits so when it did not read a source: unreadable (skipped) or
# ingested before as another format (refused).
EXIT_SKIPPED = 3
NOT_READ = ("skipped", "refused")


STATS_COLUMNS: list[Column[SourceStats]] = [
    *fields(
        "source",
        "format",
        "status",
        "lines",
        "events",
        "rejects",
        "blank",
        "matches",
        "alerts_created=NEW ALERTS",
    ),
    ("EV/S", lambda s: f"{s.events / s.seconds:,.0f}" if s.seconds else "-"),
]


def _top_reasons(reasons: dict[str, int]) -> list[tuple[str, int]]:
    """Return the five most frequent reject reasons with their counts."""
    return sorted(reasons.items(), key=lambda kv: -kv[1])[:5]


def _report(stats: list[SourceStats], as_json: bool) -> None:
    """Print each source's counts (then its top reject reasons), and every skipped source."""
    reasons = [
        f"  {s.source}: {count} rejected: {reason}"
        for s in stats
        for reason, count in _top_reasons(s.reject_reasons)
    ]
    print_rows(stats, STATS_COLUMNS, as_json, footer="\n".join(reasons) or None)
    for s in stats:
        if s.status in NOT_READ:
            typer.echo(f"{s.status} {s.source}: {s.reason}", err=True)


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(help="files or directories (recursive); '-' reads stdin"),
    format: str | None = typer.Option(
        None,
        "--format",
        "-f",
        help="log format; detected when omitted (see `bastion boundary formats`)",
    ),
    indicators: list[Path] = INDICATORS_OPTION,
    org: str | None = ORG_OPTION,
    timezone: str | None = TIMEZONE_OPTION,
    compact: bool = typer.Option(
        True, help="move what was ingested into its organisations' archive partitions at the end"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Ingest log files: parse, attribute, match indicators, archive, alert.

    A file already ingested is skipped; one interrupted resumes where it stopped.
    Lines that do not parse go to the dead-letter sink with their reason. A file
    that cannot be read (format not told, no permission, corrupt compression) is
    reported as skipped with its reason, the rest are still ingested, and the exit
    code is 3. So is a file ingested before as another format: it is refused, not
    read twice (see `bastion boundary forget`).
    """
    from bastion.boundary.sources import stdin_chunks

    pipeline = _pipeline(indicators, org, timezone)
    if [str(p) for p in paths] == ["-"]:
        if not format:
            msg = "reading stdin needs --format"
            raise InputError(msg)
        key = f"stdin-{threading.get_ident()}-{id(pipeline)}"
        stats = [pipeline.ingest_chunks(stdin_chunks(), source="<stdin>", key=key, fmt=format)]
    else:
        stats = pipeline.ingest_paths(paths, format)
    if compact:
        pipeline.compact()
    _report(stats, as_json)
    if any(s.status in NOT_READ for s in stats):
        raise typer.Exit(EXIT_SKIPPED)


@app.command("follow")
def follow_(
    path: Path = typer.Argument(help="the log file to follow; rotation is handled"),
    format: str = typer.Option(..., "--format", "-f", help="log format"),
    indicators: list[Path] = INDICATORS_OPTION,
    org: str | None = ORG_OPTION,
    timezone: str | None = TIMEZONE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Follow a log file as it grows (like `tail -F`) until interrupted, then report."""
    pipeline = _pipeline(indicators, org, timezone)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo(f"following {path} ({format}); Ctrl-C to stop", err=True)
    _report([pipeline.follow_file(path, format, should_stop=stop.is_set)], as_json)


@app.command()
def listen(
    format: str = typer.Option(..., "--format", "-f", help="log format of what senders send"),
    host: str = typer.Option("127.0.0.1", help="address to bind"),
    udp: int | None = typer.Option(None, "--udp", help="UDP port (e.g. 514, or 5514 unprivileged)"),
    tcp: int | None = typer.Option(
        None, "--tcp", help="TCP port; octet-counted or newline framing"
    ),
    batch_lines: int = typer.Option(50_000, help="lines per batch"),
    flush_seconds: float = typer.Option(1.0, help="flush a batch at least this often"),
    udp_buffer: int | None = typer.Option(
        None,
        "--udp-buffer",
        min=4096,
        help="UDP socket receive buffer in bytes (default: the syslog_udp_buffer_bytes setting)",
    ),
    status_every: float = typer.Option(
        60.0,
        "--status-every",
        min=0,
        help="print received, committed, queued and kernel UDP drops to stderr this often "
        "(seconds; 0: never)",
    ),
    indicators: list[Path] = INDICATORS_OPTION,
    timezone: str | None = TIMEZONE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Listen for syslog on UDP and/or TCP until SIGINT (Ctrl-C) or SIGTERM, then report.

    The first signal stops accepting, puts every line received through the pipeline,
    commits it and prints the report; a second signal exits at once, saying how many
    received lines were not committed.
    """
    from bastion.boundary.listen import ListenerConfig, SyslogListener

    if udp is None and tcp is None:
        msg = "give --udp PORT, --tcp PORT or both"
        raise InputError(msg)
    config = ListenerConfig(
        format,
        host=host,
        udp_port=udp,
        tcp_port=tcp,
        batch_lines=batch_lines,
        flush_seconds=flush_seconds,
        udp_buffer_bytes=udp_buffer or settings().syslog_udp_buffer_bytes,
    )
    listener = SyslogListener(_pipeline(indicators, timezone=timezone), config)
    listener.start()
    _stop_on_signals(listener)
    if status_every:
        threading.Thread(target=_print_status, args=(listener, status_every), daemon=True).start()
    typer.echo(
        f"listening: udp={listener.state.udp_port or '-'} tcp={listener.state.tcp_port or '-'} "
        f"format={format}; SIGINT (Ctrl-C) or SIGTERM stops, drains and reports",
        err=True,
    )
    stats = listener.run()
    _listen_report(listener, stats, as_json)


def _stop_on_signals(listener: SyslogListener) -> None:
    """Stop the listener on the first SIGINT or SIGTERM; exit at once on the second.

    SIGINT's handler is set whatever it was: a shell script's background job starts
    with SIGINT ignored, and the listener must still stop on it.
    """
    seen: list[int] = []

    def handle(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        pending = listener.received - listener.state.committed
        if seen:
            # os.write: the main thread may be inside a write to stderr when this runs.
            line = (
                f"bastion boundary listen: {name} again: exiting without draining; "
                f"{pending} received lines not committed\n"
            )
            os.write(2, line.encode())
            os._exit(128 + signum)
        seen.append(signum)
        line = (
            f"bastion boundary listen: {name}: stopped accepting; committing {pending} "
            f"received lines (signal again to exit at once without them)\n"
        )
        os.write(2, line.encode())
        threading.Thread(target=listener.stop, daemon=True).start()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handle)


def _print_status(listener: SyslogListener, every: float) -> None:
    while True:
        time.sleep(every)
        typer.echo(json.dumps({"listener": listener.metrics()}), err=True)


LISTEN_COLUMNS: list[Column[dict[str, Any]]] = [
    *fields("received", "archived", "rejected"),
    ("KERNEL UDP DROPS", lambda r: "-" if r["kernel_udp_drops"] is None else r["kernel_udp_drops"]),
    ("MATCHES", lambda r: r["stats"].matches),
    ("NEW ALERTS", lambda r: r["stats"].alerts_created),
]


def _listen_report(listener: SyslogListener, stats: SourceStats, as_json: bool) -> None:
    """Print what the listener received, archived, rejected and the kernel dropped."""
    metrics = listener.metrics()
    report: dict[str, Any] = {
        "received": metrics["received"],
        "archived": stats.events,
        "rejected": stats.rejects,
        "kernel_udp_drops": metrics["kernel_udp_drops"],
        "udp_buffer_bytes": metrics["udp_buffer_bytes"],
        "udp_receive_cpu_seconds": round(listener.state.udp_receive_cpu_seconds, 3),
        "framing_errors": listener.state.framing_errors,
        "stats": stats,
    }
    notes = [
        f"  {count} rejected: {reason}" for reason, count in _top_reasons(stats.reject_reasons)
    ]
    notes += [f"  connection closed: {error}" for error in listener.state.framing_errors]
    print_rows([report], LISTEN_COLUMNS, as_json, data=report, footer="\n".join(notes) or None)


PUBLISH_COLUMNS: list[Column[Any]] = [
    *fields("source", "format", "chunks", "bytes"),
]


@app.command()
def publish(
    paths: list[Path] = typer.Argument(help="files or directories (recursive) to publish"),
    format: str | None = typer.Option(
        None, "--format", "-f", help="log format; detected when omitted"
    ),
    nats: str = NATS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Publish log files as raw chunks to NATS JetStream, for `bastion boundary worker`s to process."""
    from bastion.boundary.distributed import publish_paths

    reports = asyncio.run(publish_paths(nats, paths, format))
    print_rows(reports, PUBLISH_COLUMNS, as_json=as_json)


@app.command()
def worker(
    nats: str = NATS_OPTION,
    idle_exit: float | None = typer.Option(
        None, "--idle-exit", help="stop after this many seconds with nothing to do"
    ),
    indicators: list[Path] = INDICATORS_OPTION,
    org: str | None = ORG_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Process raw chunks from NATS JetStream; run as many workers, on as many machines, as needed."""
    from bastion.boundary.distributed import Worker

    pool = Worker(_pipeline(indicators, org))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(pool.run(nats, idle_exit_s=idle_exit))
    _report(list(pool.stats.values()), as_json)


FORMAT_COLUMNS: list[Column[Any]] = [
    *fields("name=FORMAT", "description"),
]


@app.command()
def formats(as_json: bool = JSON_OPTION) -> None:
    """List the log formats Bastion reads."""
    from bastion.boundary.parsers import PARSERS

    rows = [
        {"name": p.name, "description": p.description}
        for p in sorted(PARSERS.values(), key=lambda p: p.name)
    ]
    print_rows(rows, FORMAT_COLUMNS, as_json=as_json)


SOURCE_COLUMNS: list[Column[Any]] = [
    *fields("key", "path", "format", "offset", "done"),
    ("UPDATED", lambda c: c.updated_at.isoformat(timespec="seconds")),
]


@app.command()
def sources(as_json: bool = JSON_OPTION) -> None:
    """List ingested sources and how far each was read."""
    from bastion.boundary.checkpoints import list_sources

    found = in_session(list_sources)
    print_rows(found, SOURCE_COLUMNS, as_json=as_json)


REJECTS_COLUMNS: list[Column[Any]] = [
    *fields("source", "line", "format", "reason"),
    ("RAW", lambda r: str(r["raw"])[:60]),
]


@app.command()
def forget(
    source: str = typer.Argument(help="the source's key, or its path (see `boundary sources`)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Forget an ingested source so it can be ingested again, in another format, say.

    For a file first read in the wrong format, every line rejected: it is refused
    while any of its events are archived, since reading it again would archive them
    twice. The change is audited.
    """
    from bastion.audit import Actor
    from bastion.boundary.checkpoints import forget_source

    forgotten = in_session(forget_source, source, Actor.cli())
    print_record(
        forgotten,
        lambda f: [f"forgot {f.path} ({f.key}), ingested as {f.format}"],
        as_json=as_json,
    )


@app.command()
def rejects(
    limit: int = typer.Option(20, "--limit", min=1, help="at most this many"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show lines that did not parse (the dead-letter sink), with where and why."""
    from bastion.boundary.deadletter import read_rejects

    frame = read_rejects(settings().data_dir / "deadletter").head(limit)
    rows: list[dict[str, Any]] = frame.to_dicts()
    print_rows(rows, REJECTS_COLUMNS, as_json=as_json)


__all__ = ["app"]
