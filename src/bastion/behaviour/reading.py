"""Read a day of the boundary's Parquet archive for the analytics, one organisation at a time.

The archive keeps a day's committed events in per-organisation partitions, plus
batches still staged (all organisations in one partition) until compaction. A
*slice* is what the analytics read at once: one organisation's partition with
its rows still staged, then the staged rows of organisations without a
partition. A slice is never more than one organisation's day, so memory follows
the largest member, not the federation.

Only the columns the analytics need are read, renamed short (``org``, ``host``,
``remote``, ``dest``, ``ts``, ``sent``, ``qname``, ``rcode``, ``ja3``, ``ja4``):
``remote`` is the other party of the member host, ``dest`` the server name when
the log has one (TLS SNI, the proxy's domain), else ``remote``; ``sent`` the
bytes the member host sent (the total when the log has no direction).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from bastion.boundary.archive import DAY, NO_DAY, ORG, STAGING, visible_files
from bastion.core.events import ARCHIVE_SCHEMA

COLUMNS = [
    "@timestamp",
    "organization.id",
    "host.ip",
    "source.ip",
    "destination.ip",
    "source.bytes",
    "destination.bytes",
    "network.bytes",
    "tls.server.name",
    "url.domain",
    "dns.question.name",
    "dns.response_code",
    "tls.client.ja3",
    "tls.client.ja4",
]
EVIDENCE_COLUMNS = ["event.original", "event.dataset", "event.type", "log.file.path", "log.offset"]


@dataclass(frozen=True)
class Slice:
    """The files holding one organisation's day (``org`` None: the staged rows of the rest)."""

    org: str | None
    files: tuple[str, ...]
    staged: tuple[str, ...]
    skip: tuple[str, ...] = ()  # with ``org`` None: organisations read in their own slice


def archive_days(root: Path) -> list[date]:
    """Return the days the archive holds, oldest first."""
    days = set()
    for path in visible_files(root):
        name = path.parent.parent.name.removeprefix(f"{DAY}=")
        if name != NO_DAY:
            days.add(date.fromisoformat(name))
    return sorted(days)


def day_slices(root: Path, day: date) -> list[Slice]:
    """Return the slices of ``day``: each partitioned organisation, then the staged rest."""
    prefix = f"{DAY}={day.isoformat()}"
    by_org: dict[str, list[str]] = {}
    staged: list[str] = []
    for path in visible_files(root):
        if path.parent.parent.name != prefix:
            continue
        org = path.parent.name.removeprefix(f"{ORG}=")
        (staged if org == STAGING else by_org.setdefault(org, [])).append(str(path))
    slices = [Slice(org, tuple(files), tuple(staged)) for org, files in sorted(by_org.items())]
    if staged:
        slices.append(Slice(None, (), tuple(staged), tuple(sorted(by_org))))
    return slices


def _scan(files: tuple[str, ...], columns: list[str]) -> pl.LazyFrame:
    schema = {c: ARCHIVE_SCHEMA[c] for c in columns}
    return pl.scan_parquet(
        list(files),
        schema=schema,
        missing_columns="insert",
        extra_columns="ignore",
        hive_partitioning=False,
    )


def read_slice(part: Slice, extra: list[str] | None = None) -> pl.LazyFrame:
    """Return the slice's events with the analytics' short columns (and ``extra`` as named)."""
    columns = [*COLUMNS, *(extra or [])]
    frames = []
    if part.files:
        frames.append(_scan(part.files, columns))
    if part.staged:
        staged = _scan(part.staged, columns)
        org = pl.col("organization.id")
        keep = org == part.org if part.org is not None else ~org.is_in(list(part.skip))
        frames.append(staged.filter(keep))
    return normalise(pl.concat(frames) if frames else _scan((), columns))


def normalise(events: pl.LazyFrame) -> pl.LazyFrame:
    """Rename and derive the analytics' columns from archive columns; drop unattributed rows."""
    host = pl.col("host.ip")
    outbound = host == pl.col("source.ip")
    inbound = host == pl.col("destination.ip")
    remote = pl.when(inbound).then(pl.col("source.ip")).otherwise(pl.col("destination.ip"))
    sent = pl.when(outbound).then(pl.col("source.bytes")).otherwise(pl.col("destination.bytes"))
    extra = [c for c in events.collect_schema().names() if c not in COLUMNS]
    return events.filter(host.is_not_null() & pl.col("organization.id").is_not_null()).select(
        pl.col("organization.id").alias("org"),
        host.alias("host"),
        remote.alias("remote"),
        pl.coalesce("tls.server.name", "url.domain", remote).alias("dest"),
        pl.col("@timestamp").alias("ts"),
        pl.coalesce(sent, pl.col("network.bytes")).alias("sent"),
        pl.col("dns.question.name").alias("qname"),
        pl.col("dns.response_code").alias("rcode"),
        pl.col("tls.client.ja3").alias("ja3"),
        pl.col("tls.client.ja4").alias("ja4"),
        *extra,
    )


def slices_between(root: Path, first: date, last: date) -> Iterator[tuple[date, Slice]]:
    """Yield every slice of the days from ``first`` to ``last`` the archive holds."""
    for day in archive_days(root):
        if first <= day <= last:
            for part in day_slices(root, day):
                yield day, part
