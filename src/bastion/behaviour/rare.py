"""Rare and new TLS client fingerprints (JA3, JA4) across the federation, in Polars.

Sightings are one row per (org, host, fingerprint), the fingerprint written
``ja3:<md5>`` or ``ja4:<value>``. Per fingerprint over the whole federation's
day: ``hosts`` (distinct member hosts) and ``orgs``.

Parts, each 0–1: ``new`` = 1 when the fingerprint was not seen anywhere in the
lookback days; ``rarity`` = 1 / hosts when hosts ≤ ``rare_hosts``, else 0;
``spread`` = min(1, (orgs − 1) / (``campaign_orgs`` − 1)). Score =
new · (0.6 + 0.3 · max(rarity, spread)): a new fingerprint at one host scores
0.9, at two hosts 0.75, at three organisations or more (a campaign) 0.9; a
fingerprint seen before scores 0. On an archive's first day (no lookback days
to compare with) every fingerprint would be new, so spread counts for nothing.
"""

from __future__ import annotations

import polars as pl

from bastion.behaviour.config import BehaviourConfig

PARTS = ["new", "rarity", "spread"]


def sightings(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Return one row per (org, host, fingerprint) of the events carrying a JA3 or JA4: how
    often, first and last seen, a remote address.

    Grouped on the raw column first, so the ``ja3:``/``ja4:`` prefix is added per
    sighting, not per event.
    """
    parts = []
    for column in ("ja3", "ja4"):
        value = pl.col(column)
        parts.append(
            frame.filter(value.is_not_null() & (value != ""))
            .group_by("org", "host", column)
            .agg(
                pl.len().alias("connections"),
                pl.col("ts").min().alias("first_seen"),
                pl.col("ts").max().alias("last_seen"),
                pl.col("remote").drop_nulls().first().alias("remote"),
            )
            .select(
                "org",
                "host",
                (pl.lit(f"{column}:") + value).alias("fingerprint"),
                "connections",
                "first_seen",
                "last_seen",
                "remote",
            )
        )
    return pl.concat(parts)


def score_fingerprints(
    seen: pl.LazyFrame, config: BehaviourConfig, known: pl.LazyFrame | None = None
) -> pl.LazyFrame:
    """Return the ``sightings`` rows of fingerprints that are new and rare or spread, scored.

    ``seen`` must hold the whole federation's sightings of the day; ``known`` lists the
    fingerprints seen in the lookback days.
    """
    spread = seen.group_by("fingerprint").agg(
        pl.struct("org", "host").n_unique().alias("hosts"),
        pl.col("org").n_unique().alias("orgs"),
    )
    if known is not None:
        spread = spread.join(known.select("fingerprint").unique(), on="fingerprint", how="anti")
    # Without history every fingerprint is "new": only rarity can tell then, never spread.
    reach = pl.col("orgs") - 1 if known is not None else pl.lit(0)
    parts = spread.with_columns(
        pl.lit(1.0).alias("new"),
        pl.when(pl.col("hosts") <= config.rare_hosts)
        .then(1.0 / pl.col("hosts"))
        .otherwise(0.0)
        .alias("rarity"),
        (reach / max(1, config.campaign_orgs - 1)).clip(0, 1).alias("spread"),
    ).filter((pl.col("rarity") > 0) | (pl.col("spread") > 0))
    return (
        seen.join(parts, on="fingerprint")
        .with_columns(
            (pl.col("new") * (0.6 + 0.3 * pl.max_horizontal("rarity", "spread"))).alias("score")
        )
        .rename({"fingerprint": "dest"})
    )
