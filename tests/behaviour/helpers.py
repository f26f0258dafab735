"""Archived events for behaviour tests: a beacon, people browsing, DNS lookups, in the archive."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from bastion.boundary.archive import write_batch
from bastion.core.events import ARCHIVE_SCHEMA, conform

DAY = date(2026, 1, 5)


def day_start(day: date = DAY) -> int:
    """Return the day's first microsecond since the epoch."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000


def connections(
    stamps: np.ndarray, host: str, remote: str, *, org: str = "RAA", sent: np.ndarray | None = None,
    sni: str | None = None, ja3: str | None = None,
) -> pl.DataFrame:  # fmt: skip
    """Return archived outbound connections of ``host`` to ``remote`` at ``stamps`` (µs)."""
    n = len(stamps)
    frame = pl.DataFrame(
        {
            "@timestamp": pl.Series(np.sort(stamps)).cast(pl.Datetime("us", "UTC")),
            "organization.id": [org] * n,
            "host.ip": [host] * n,
            "source.ip": [host] * n,
            "destination.ip": [remote] * n,
            "destination.port": [443] * n,
            "source.bytes": sent if sent is not None else np.full(n, 500),
            "tls.server.name": [sni] * n,
            "tls.client.ja3": [ja3] * n,
            "event.dataset": ["panos.traffic"] * n,
            "event.original": [f"conn {host} -> {remote} #{i}" for i in range(n)],
        }
    )
    return conform(frame, ARCHIVE_SCHEMA)


def lookups(stamps: np.ndarray, host: str, names: list[str], *, org: str = "RAA") -> pl.DataFrame:
    """Return archived DNS queries of ``host`` for ``names`` at ``stamps`` (µs)."""
    n = len(stamps)
    frame = pl.DataFrame(
        {
            "@timestamp": pl.Series(np.sort(stamps)).cast(pl.Datetime("us", "UTC")),
            "organization.id": [org] * n,
            "host.ip": [host] * n,
            "source.ip": [host] * n,
            "destination.ip": ["198.18.0.53"] * n,
            "dns.question.name": names,
            "dns.response_code": ["NOERROR"] * n,
            "event.dataset": ["zeek.dns"] * n,
            "event.original": [f"dns {host} {q}" for q in names],
        }
    )
    return conform(frame, ARCHIVE_SCHEMA)


def beacon_times(every_s: float, count: int, *, jitter: float = 0.1, seed: int = 1) -> np.ndarray:
    """Return ``count`` times ``every_s`` apart with uniform jitter (a share of the period)."""
    rng = np.random.default_rng(seed)
    steps = np.arange(count) * every_s + rng.uniform(-jitter, jitter, count) * every_s
    return (day_start() + (60 + steps) * 1e6).astype(np.int64)


def archive(root: Path, *frames: pl.DataFrame, batch: str = "b1") -> Path:
    """Write ``frames`` to the archive at ``root`` as one batch; return ``root``."""
    write_batch(pl.concat(frames), root, batch)
    return root
