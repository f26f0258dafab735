"""The verdict stage: indicator matches become alert candidates, blocked or live."""

from __future__ import annotations

import polars as pl

from bastion.core.events import CANDIDATE_SCHEMA

ROW = "_row"


def indicator_candidates(events: pl.DataFrame, matches: pl.DataFrame) -> pl.DataFrame:
    """Join each indicator match to its event and decide: blocked by the device, or live.

    Only events attributed to a member organisation become candidates; the others
    stay in the archive, where a hunt finds them.
    """
    if matches.is_empty():
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)
    joined = matches.join(
        events.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64)), on=ROW
    )
    threat = pl.col("indicator.threat").fill_null("")
    label = pl.concat_str(
        pl.lit("Listed "), pl.col("indicator.type"), pl.lit(" "), pl.col("indicator.value")
    )
    return joined.filter(pl.col("organization.id").is_not_null()).select(
        pl.col("organization.id"),
        pl.col("host.ip"),
        pl.col("@timestamp"),
        pl.lit("indicator").alias("kind"),
        pl.col("indicator.id").alias("key"),
        pl.when(threat != "")
        .then(pl.concat_str(threat, pl.lit(": "), label))
        .otherwise(label)
        .alias("title"),
        pl.col("indicator.severity").cast(pl.String).alias("severity"),
        (pl.col("event.type") == "denied").fill_null(value=False).alias("blocked"),
        pl.col("indicator.type"),
        pl.col("indicator.value"),
        pl.col("indicator.source"),
        pl.col("indicator.threat"),
        pl.col("event.original"),
        pl.col("log.file.path"),
        pl.col("log.offset"),
        pl.col("event.dataset"),
        pl.col("indicator.value").alias("observable"),
    )


def unattributed_matches(events: pl.DataFrame, matches: pl.DataFrame) -> int:
    """Count matches on events that belong to no member organisation."""
    if matches.is_empty():
        return 0
    orgs = events.get_column("organization.id").gather(matches.get_column(ROW))
    return orgs.null_count()
