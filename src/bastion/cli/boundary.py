"""`bastion boundary`: ingest logs, listen for syslog, see formats, sources and rejects."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bastion.cli.context import command_group, in_session, settings, store
from bastion.cli.output import JSON_OPTION, Column, print_json, print_rows, print_table
from bastion.core.errors import InputError

if TYPE_CHECKING:
    from bastion.boundary.listen import SyslogListener
    from bastion.boundary.pipeline import Pipeline, SourceStats

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
NATS_OPTION = typer.Option("nats://127.0.0.1:4222", "--nats", help="NATS JetStream server URL")


def _pipeline(indicator_files: list[Path], org: str | None = None) -> Pipeline:
    from bastion.boundary.pipeline import Pipeline

    return Pipeline.open(store(), settings(), indicator_files=indicator_files, default_org=org)


def _report(stats: list[SourceStats], as_json: bool) -> None:
    if as_json:
        print_json(stats)
        return
    print_table(
        ["SOURCE", "FORMAT", "STATUS", "EVENTS", "REJECTS", "MATCHES", "NEW ALERTS", "EV/S"],
        [
            (
                s.source,
                s.format,
                s.status,
                s.events,
                s.rejects,
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
    Lines that do not parse go to the dead-letter sink with their reason.
    """
    from bastion.boundary.sources import stdin_chunks

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
    indicators: list[Path] = INDICATORS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Listen for syslog on UDP and/or TCP until interrupted (Ctrl-C), then report."""
    from bastion.boundary.listen import ListenerConfig, SyslogListener, udp_drops

    if udp is None and tcp is None:
        msg = "give --udp PORT, --tcp PORT or both"
        raise InputError(msg)
    listener = SyslogListener(
        _pipeline(indicators),
        ListenerConfig(format, host, udp, tcp, batch_lines, flush_seconds),
    )
    listener.start()
    typer.echo(
        f"listening: udp={listener.state.udp_port or '-'} tcp={listener.state.tcp_port or '-'} format={format}",
        err=True,
    )
    stopper = threading.Thread(target=_wait_for_signal, args=(listener,), daemon=True)
    stopper.start()
    stats = listener.run()
    drops = udp_drops()
    if as_json:
        print_json(
            {
                "stats": stats,
                "received": listener.state.received,
                "kernel_udp_drops": drops,
                "framing_errors": listener.state.framing_errors,
            }
        )
        return
    _report([stats], as_json=False)
    typer.echo(
        f"received {listener.state.received} lines; kernel UDP drops on this host: {drops}",
        err=True,
    )


def _wait_for_signal(listener: SyslogListener) -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    listener.stop()


PUBLISH_COLUMNS: list[Column[Any]] = [
    ("SOURCE", lambda r: r.source),
    ("FORMAT", lambda r: r.format),
    ("CHUNKS", lambda r: r.chunks),
    ("BYTES", lambda r: r.bytes),
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
    ("FORMAT", lambda r: r["name"]),
    ("DESCRIPTION", lambda r: r["description"]),
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
    ("PATH", lambda c: c.path),
    ("FORMAT", lambda c: c.format),
    ("OFFSET", lambda c: c.offset),
    ("DONE", lambda c: c.done),
    ("UPDATED", lambda c: c.updated_at.isoformat(timespec="seconds")),
]


@app.command()
def sources(as_json: bool = JSON_OPTION) -> None:
    """List ingested sources and how far each was read."""
    from bastion.boundary.checkpoints import list_sources

    found = in_session(list_sources)
    print_rows(found, SOURCE_COLUMNS, as_json=as_json)


REJECTS_COLUMNS: list[Column[Any]] = [
    ("SOURCE", lambda r: r["source"]),
    ("LINE", lambda r: r["line"]),
    ("FORMAT", lambda r: r["format"]),
    ("REASON", lambda r: r["reason"]),
    ("RAW", lambda r: str(r["raw"])[:60]),
]


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
