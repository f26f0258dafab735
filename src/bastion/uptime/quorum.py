"""Decide each check from many vantage points' results: down only when a quorum agrees.

A monitor's time is cut into buckets of its interval. In each bucket an agent's
verdict is its last result there; the bucket is down when at least
``min(quorum, agents that reported)`` agents say down, so one agent's bad network
pages nobody while a lone agent still counts for something. Buckets are then
summed per minute: checks, down checks and checks under maintenance (which spend
no budget), and the latency of the good probes.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import polars as pl

from bastion.uptime.domain import Maintenance

RAW_SCHEMA: dict[str, pl.DataType] = {
    "monitor": pl.Int64(),
    "agent": pl.String(),
    "at": pl.Datetime("us", "UTC"),
    "ok": pl.Boolean(),
    "latency_ms": pl.Float64(),
    "status": pl.Int64(),
    "error": pl.String(),
    "dns_ms": pl.Float64(),
    "connect_ms": pl.Float64(),
    "tls_ms": pl.Float64(),
    "first_byte_ms": pl.Float64(),
    "days_left": pl.Float64(),
    "cert_sha256": pl.String(),
}
MINUTE_SCHEMA: dict[str, pl.DataType] = {
    "monitor": pl.Int64(),
    "minute": pl.Datetime("us", "UTC"),
    "checks": pl.UInt32(),  # decided checks outside maintenance
    "down": pl.UInt32(),  # of those, down by quorum
    "maintenance": pl.UInt32(),  # checks inside a maintenance window
    "latency_sum": pl.UInt32(),  # whole ms of the good probes, for a mean that rolls up exactly
    "latency_n": pl.UInt32(),
}
MONITOR_SCHEMA: dict[str, pl.DataType] = {
    "monitor": pl.Int64(),
    "interval_s": pl.Int64(),
    "quorum": pl.Int64(),
}


def conform_raw(frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` with exactly the raw results' columns and types."""
    return frame.select(
        (pl.col(n) if n in frame.columns else pl.lit(None)).cast(t).alias(n)
        for n, t in RAW_SCHEMA.items()
    )


def buckets(raw: pl.DataFrame, monitors: pl.DataFrame) -> pl.DataFrame:
    """Return one row per (monitor, bucket): agents reporting, agents down, down by quorum."""
    joined = raw.join(monitors, on="monitor", how="inner")
    epoch = pl.col("at").dt.epoch("s")
    per_agent = (
        joined.with_columns(bucket=(epoch // pl.col("interval_s")) * pl.col("interval_s"))
        .sort("at")
        .group_by("monitor", "bucket", "agent")
        .agg(
            pl.col("ok").last(),
            pl.col("quorum").first(),
            pl.col("latency_ms").filter(pl.col("ok")).mean(),
        )
    )
    return (
        per_agent.group_by("monitor", "bucket")
        .agg(
            agents=pl.len().cast(pl.Int64),
            agents_down=(~pl.col("ok")).sum().cast(pl.Int64),
            quorum=pl.col("quorum").first(),
            latency_ms=pl.col("latency_ms").median(),
        )
        .with_columns(
            down=pl.col("agents_down") >= pl.min_horizontal("quorum", "agents"),
        )
    )


def in_maintenance(
    frame: pl.DataFrame, windows: Iterable[tuple[Maintenance, list[int]]]
) -> np.ndarray:
    """Return, per bucket row, whether a maintenance window of its monitor covers it."""
    covered = np.zeros(frame.height, dtype=bool)
    monitors = frame["monitor"].to_numpy()
    moments = frame["bucket"].to_numpy()
    for window, ids in windows:
        mask = np.isin(monitors, np.asarray(ids, dtype=np.int64))
        if mask.any():
            covered |= mask & window.covers(moments)
    return covered


def minutes(
    raw: pl.DataFrame,
    monitors: pl.DataFrame,
    windows: Iterable[tuple[Maintenance, list[int]]] = (),
) -> pl.DataFrame:
    """Sum quorum-decided checks per (monitor, minute) in MINUTE_SCHEMA."""
    decided = buckets(raw, monitors)
    decided = decided.with_columns(maint=pl.Series(in_maintenance(decided, windows)))
    counted = ~pl.col("maint")
    good = counted & ~pl.col("down") & pl.col("latency_ms").is_not_null()
    return (
        decided.with_columns(minute=pl.from_epoch((pl.col("bucket") // 60) * 60, time_unit="s"))
        .group_by("monitor", "minute")
        .agg(
            checks=counted.sum(),
            down=(counted & pl.col("down")).sum(),
            maintenance=pl.col("maint").sum(),
            latency_sum=pl.col("latency_ms").filter(good).sum().round(),
            latency_n=good.sum(),
        )
        .with_columns(pl.col("minute").dt.replace_time_zone("UTC"))
        .select(pl.col(n).cast(t) for n, t in MINUTE_SCHEMA.items())
        .sort("monitor", "minute")
    )
