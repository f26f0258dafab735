"""`bastion boundary listen --publish` (a collector) and `bastion boundary status`: the
distributed boundary's edge and its stream, as the CLI shows them."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bastion.cli.context import settings
from bastion.cli.output import JSON_OPTION, Column, fields, print_record, print_rows

if TYPE_CHECKING:
    from bastion.boundary.listen import SyslogListener

NATS_OPTION = typer.Option("nats://127.0.0.1:4222", "--nats", help="NATS JetStream server URL")


def _quiet_nats_client() -> None:
    """Keep nats-py from logging a traceback for every failed connection attempt.

    The collector counts and reports each failure itself (its metrics and report), and
    status says in one line that NATS cannot be reached: a collector waiting out a NATS
    outage would otherwise write a traceback a second.
    """
    logging.getLogger("nats.aio.client").setLevel(logging.CRITICAL)


KERNEL_DROPS_COLUMN: Column[dict[str, Any]] = (
    "KERNEL UDP DROPS",
    lambda r: "-" if r["kernel_udp_drops"] is None else r["kernel_udp_drops"],
)
COLLECT_COLUMNS: list[Column[dict[str, Any]]] = [
    *fields("received", "published_lines=PUBLISHED", "spool_messages=SPOOLED"),
    KERNEL_DROPS_COLUMN,
]


def run_collector(
    listener: SyslogListener,
    nats: str,
    spool: Path | None,
    spool_max_bytes: int,
    metrics_at: tuple[str, int | None],
    as_json: bool,
) -> None:
    """Publish what the listener receives until it stops, then report what went where."""
    from dataclasses import asdict

    from bastion.boundary.collector import ChunkPublisher, Spool, collect
    from bastion.boundary.collector_metrics import collector_registry, serve_metrics

    _quiet_nats_client()
    folder = spool or settings().data_dir / "spool"
    publisher = ChunkPublisher(nats, Spool(folder, spool_max_bytes))
    registry = collector_registry(listener, publisher)
    where = ""
    host, port = metrics_at
    if port is not None:
        where = f" metrics=http://{host}:{serve_metrics(registry, host, port)}/metrics"
    typer.echo(
        f"collecting: udp={listener.state.udp_port or '-'} tcp={listener.state.tcp_port or '-'} "
        f"format={listener.config.fmt} to {nats}, spool {folder}{where}; "
        "SIGINT (Ctrl-C) or SIGTERM stops, publishes or spools what was received, and reports",
        err=True,
    )
    asyncio.run(collect(listener, publisher))
    report: dict[str, Any] = {
        **asdict(publisher.stats),
        "received": listener.received,
        "spool_messages": publisher.spool.depth,
        "spool_bytes": publisher.spool.bytes,
        "kernel_udp_drops": listener.kernel_udp_drops(),
        "framing_errors": listener.state.framing_errors,
    }
    footer = f"  last error: {publisher.stats.last_error}" if publisher.stats.last_error else None
    print_rows([report], COLLECT_COLUMNS, as_json, data=report, footer=footer)


CONSUMER_COLUMNS: list[Column[Any]] = [
    *fields("name=CONSUMER", "pending", "ack_pending=UNACKED", "redelivered", "waiting_pulls"),
    (
        "LAST ACTIVE",
        lambda c: c.last_active.isoformat(timespec="seconds") if c.last_active else "-",
    ),
]


WORKER_COLUMNS: list[Column[Any]] = [
    *fields("worker_id=WORKER", "state"),
    ("LAST BEAT", lambda w: w.last_beat.isoformat(timespec="seconds")),
    *fields("batches", "events", "dead_letters=DEAD LETTERS", "reason"),
]


def status(nats: str = NATS_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Show the distributed boundary: the raw-chunk stream's depth, each consumer's lag, and
    each worker's last heartbeat (from the store the workers share)."""
    from dataclasses import asdict

    from bastion.boundary.stream_status import StreamStatus, stream_status
    from bastion.boundary.workers import list_workers
    from bastion.cli.context import in_session
    from bastion.cli.output import plain, table_lines

    _quiet_nats_client()
    workers = in_session(list_workers)

    def table(columns: list[Column[Any]], items: list[Any]) -> list[str]:
        return table_lines([h for h, _ in columns], [[c(i) for _, c in columns] for i in items])

    def render(found: StreamStatus) -> list[str]:
        return [
            f"stream {found.stream}: {found.messages} messages waiting, {found.bytes:,} bytes "
            f"(sequence {found.first_seq}-{found.last_seq})",
            *table(CONSUMER_COLUMNS, found.consumers),
            f"workers: {len(workers)} known",
            *(table(WORKER_COLUMNS, workers) if workers else []),
        ]

    found = asyncio.run(stream_status(nats))
    data = {**plain(asdict(found)), "workers": plain(workers)}
    print_record(found, render, as_json=as_json, data=data)
