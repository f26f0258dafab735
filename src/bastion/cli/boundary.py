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
from typing import Any

import typer

from bastion.boundary.deadletter import read_rejects
from bastion.boundary.listen import ListenerConfig, SyslogListener
from bastion.boundary.parsers import PARSERS
from bastion.boundary.pipeline import Pipeline, SourceStats
from bastion.boundary.sources import stdin_chunks
from bastion.cli.context import JSON_OPTION, print_json, print_table, settings, store
from bastion.core.errors import InputError

app = typer.Typer(
    help="Protective monitoring: ingest boundary logs, listen for syslog, inspect what was read.",
    no_args_is_help=True,
)

INDICATORS_OPTION = typer.Option(
    [], "--indicators", "-i", help="also match indicators from this CSV/JSON file; repeatable"
)


ORG_OPTION = typer.Option(
    None,
    "--org",
    help="organisation owning events no registered network claims (a web server's log)",
)
NATS_OPTION = typer.Option("nats://127.0.0.1:4222", "--nats", help="NATS JetStream server URL")


def _pipeline(indicator_files: list[Path], org: str | None = None) -> Pipeline:
    return Pipeline.open(store(), settings(), indicator_files=indicator_files, default_org=org)


# `bastion boundary ingest` exits so when it did not read a source: unreadable (skipped) or
# ingested before as another format (refused).
EXIT_SKIPPED = 3
NOT_READ = ("skipped", "refused")


def _report(stats: list[SourceStats], as_json: bool) -> None:
    if as_json:
        print_json(stats)
    else:
        _table(stats)
    for s in stats:
        if s.status in NOT_READ:
            typer.echo(f"{s.status} {s.source}: {s.reason}", err=True)


def _table(stats: list[SourceStats]) -> None:
    print_table(
        [
            "SOURCE",
            "FORMAT",
            "STATUS",
            "LINES",
            "EVENTS",
            "REJECTS",
            "BLANK",
            "MATCHES",
            "NEW ALERTS",
            "EV/S",
        ],
        [
            (
                s.source,
                s.format,
                s.status,
                s.lines,
                s.events,
                s.rejects,
                s.blank,
                s.matches,
                s.alerts_created,
                f"{s.events / s.seconds:,.0f}" if s.seconds else "-",
            )
            for s in stats
        ],
    )
    for s in stats:
        for reason, count in sorted(s.reject_reasons.items(), key=lambda kv: -kv[1])[:5]:
            typer.echo(f"  {s.source}: {count} rejected: {reason}", err=True)


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
    pipeline = _pipeline(indicators, org)
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
    as_json: bool = JSON_OPTION,
) -> None:
    """Follow a log file as it grows (like `tail -F`) until interrupted, then report."""
    pipeline = _pipeline(indicators, org)
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
    as_json: bool = JSON_OPTION,
) -> None:
    """Listen for syslog on UDP and/or TCP until SIGINT (Ctrl-C) or SIGTERM, then report.

    The first signal stops accepting, puts every line received through the pipeline,
    commits it and prints the report; a second signal exits at once, saying how many
    received lines were not committed.
    """
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
    listener = SyslogListener(_pipeline(indicators), config)
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


def _listen_report(listener: SyslogListener, stats: SourceStats, as_json: bool) -> None:
    """Print what the listener received, archived, rejected and the kernel dropped."""
    metrics = listener.metrics()
    report = {
        "received": metrics["received"],
        "archived": stats.events,
        "rejected": stats.rejects,
        "kernel_udp_drops": metrics["kernel_udp_drops"],
        "udp_buffer_bytes": metrics["udp_buffer_bytes"],
        "udp_receive_cpu_seconds": round(listener.state.udp_receive_cpu_seconds, 3),
        "framing_errors": listener.state.framing_errors,
        "stats": stats,
    }
    if as_json:
        print_json(report)
        return
    print_table(
        ["RECEIVED", "ARCHIVED", "REJECTED", "KERNEL UDP DROPS", "MATCHES", "NEW ALERTS"],
        [
            (
                report["received"],
                stats.events,
                stats.rejects,
                "-" if report["kernel_udp_drops"] is None else report["kernel_udp_drops"],
                stats.matches,
                stats.alerts_created,
            )
        ],
    )
    for reason, count in sorted(stats.reject_reasons.items(), key=lambda kv: -kv[1])[:5]:
        typer.echo(f"  {count} rejected: {reason}", err=True)
    for error in listener.state.framing_errors:
        typer.echo(f"  connection closed: {error}", err=True)


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
    if as_json:
        print_json(reports)
        return
    print_table(
        ["SOURCE", "FORMAT", "CHUNKS", "BYTES"],
        [(r.source, r.format, r.chunks, r.bytes) for r in reports],
    )


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


@app.command()
def formats(as_json: bool = JSON_OPTION) -> None:
    """List the log formats Bastion reads."""
    rows = [
        {"name": p.name, "description": p.description}
        for p in sorted(PARSERS.values(), key=lambda p: p.name)
    ]
    if as_json:
        print_json(rows)
        return
    print_table(["FORMAT", "DESCRIPTION"], [(r["name"], r["description"]) for r in rows])


@app.command()
def sources(as_json: bool = JSON_OPTION) -> None:
    """List ingested sources and how far each was read."""
    from bastion.boundary.checkpoints import list_sources

    with store().session() as session:
        found = list_sources(session)
    if as_json:
        print_json(found)
        return
    print_table(
        ["KEY", "PATH", "FORMAT", "OFFSET", "DONE", "UPDATED"],
        [
            (c.key, c.path, c.format, c.offset, c.done, c.updated_at.isoformat(timespec="seconds"))
            for c in found
        ],
    )


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

    with store().session() as session:
        forgotten = forget_source(session, source, Actor.cli())
    if as_json:
        print_json(forgotten)
        return
    typer.echo(f"forgot {forgotten.path} ({forgotten.key}), ingested as {forgotten.format}")


@app.command()
def rejects(
    limit: int = typer.Option(20, "--limit", min=1, help="at most this many"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show lines that did not parse (the dead-letter sink), with where and why."""
    frame = read_rejects(settings().data_dir / "deadletter").head(limit)
    rows: list[dict[str, Any]] = frame.to_dicts()
    if as_json:
        print_json(rows)
        return
    print_table(
        ["SOURCE", "LINE", "FORMAT", "REASON", "RAW"],
        [(r["source"], r["line"], r["format"], r["reason"], str(r["raw"])[:60]) for r in rows],
    )


__all__ = ["app"]
