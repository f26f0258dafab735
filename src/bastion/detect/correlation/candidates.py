"""Correlation firings as boundary alert candidates (kind ``rule``).

One candidate per evidence event of each firing, so the alert built from them
shows the events that made the correlation fire; a firing without evidence
still gives one candidate describing it. The key is the correlation rule and
its group, so each group's firings extend one alert.
"""

from __future__ import annotations

import polars as pl

from bastion.core.errors import InputError
from bastion.core.events import CANDIDATE_SCHEMA, TIMESTAMP, AlertKind
from bastion.core.types import Severity
from bastion.detect.correlation.engine import FIRING_SCHEMA
from bastion.detect.correlation.windows import TS

DEFAULT_SEVERITY = Severity.MEDIUM  # a correlation without `level`
_KEY_LIMIT = 200


def correlation_candidates(firings: pl.DataFrame) -> pl.DataFrame:
    """Return one alert candidate (``CANDIDATE_SCHEMA``) per evidence event of each firing."""
    missing = [c for c in FIRING_SCHEMA if c not in firings.columns]
    if missing:
        msg = f"correlation firings lack column(s) {', '.join(missing)}"
        raise InputError(msg)
    if firings.is_empty():
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)
    levels = {s.value for s in Severity}
    severity = (
        pl.when(pl.col("rule.level").str.to_lowercase().is_in(sorted(levels)))
        .then(pl.col("rule.level").str.to_lowercase())
        .otherwise(pl.lit(DEFAULT_SEVERITY.value))
    )
    described = pl.format(
        "{} ({} {} in {}s, group {})",
        pl.col("rule.title"),
        pl.col("correlation.type"),
        pl.col("correlation.value"),
        pl.col("correlation.timespan"),
        pl.col("correlation.group"),
    )
    exploded = (
        firings.with_columns(
            severity.alias("_severity"),
            pl.format("{} {}", pl.col("rule.id"), pl.col("correlation.group"))
            .str.slice(0, _KEY_LIMIT)
            .alias("_key"),
            described.alias("_described"),
        )
        .explode("correlation.evidence", empty_as_null=True)
        .with_columns(pl.col("correlation.evidence").struct.unnest().name.prefix("_e."))
    )
    return exploded.select(
        pl.col("organization.id").fill_null(pl.col("_e.organization.id")).alias("organization.id"),
        pl.col("host.ip").fill_null(pl.col("_e.host.ip")).alias("host.ip"),
        pl.col(f"_e.{TS}").fill_null(pl.col(TS)).cast(TIMESTAMP).alias(TS),
        pl.lit(AlertKind.RULE.value).alias("kind"),
        pl.col("_key").alias("key"),
        pl.col("rule.title").alias("title"),
        pl.col("_severity").alias("severity"),
        # blocked only if the device denied every event of the window, as the built-in checks say
        pl.col("correlation.blocked").fill_null(value=False).alias("blocked"),
        pl.lit(None, pl.String).alias("indicator.type"),
        pl.lit(None, pl.String).alias("indicator.value"),
        pl.lit(None, pl.String).alias("indicator.source"),
        pl.lit(None, pl.String).alias("indicator.threat"),
        pl.col("_e.event.original").fill_null(pl.col("_described")).alias("event.original"),
        pl.col("_e.log.file.path").alias("log.file.path"),
        pl.col("_e.log.offset").alias("log.offset"),
        pl.col("_e.event.dataset").alias("event.dataset"),
        pl.when(pl.col("_e.host.ip") == pl.col("_e.destination.ip"))
        .then(pl.col("_e.source.ip"))
        .otherwise(pl.col("_e.destination.ip"))
        .alias("observable"),
    ).select((pl.col(c).cast(t) for c, t in CANDIDATE_SCHEMA.items()))
