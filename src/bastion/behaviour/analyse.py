"""Run every analytic over one day of the archive and rank the results, federation first.

Each organisation's slice is scored alone (beacons, long connections, DNS), then
the fingerprint sightings of every slice are scored together (rarity needs the
whole federation). The federation view counts, per destination, the member
organisations where it scored at or above the threshold: a destination beaconing
from several members ranks above any single one.

A result row: ``analytic`` (beacon, long-connection, dns-tunnel, rare-fingerprint),
``org``, ``host``, ``dest``, ``remote``, ``score``, ``parts`` (JSON of the 0–1 parts),
``connections``, ``first_seen``, ``last_seen``, ``orgs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from bastion.behaviour import beacons, dns, rare
from bastion.behaviour.config import BehaviourConfig
from bastion.behaviour.reading import Slice, day_slices, read_slice, slices_between
from bastion.core.events import TIMESTAMP

BEACON = "beacon"
LONG = "long-connection"
DNS_TUNNEL = "dns-tunnel"
RARE = "rare-fingerprint"
ANALYTICS = (BEACON, LONG, DNS_TUNNEL, RARE)
RESULT_SCHEMA: dict[str, pl.DataType] = {
    "analytic": pl.String(),
    "org": pl.String(),
    "host": pl.String(),
    "dest": pl.String(),
    "remote": pl.String(),
    "score": pl.Float64(),
    "parts": pl.String(),
    "connections": pl.Int64(),
    "first_seen": TIMESTAMP,
    "last_seen": TIMESTAMP,
}


def _results(frame: pl.LazyFrame, analytic: str, parts: list[str]) -> pl.LazyFrame:
    return frame.select(
        pl.lit(analytic).alias("analytic"),
        "org",
        "host",
        "dest",
        "remote",
        pl.col("score").round(4),
        pl.struct(pl.col(p).round(4) for p in parts).struct.json_encode().alias("parts"),
        pl.col("connections").cast(pl.Int64),
        pl.col("first_seen").cast(TIMESTAMP),
        pl.col("last_seen").cast(TIMESTAMP),
    )


def connection_results(events: pl.LazyFrame, config: BehaviourConfig, floor: float) -> pl.LazyFrame:
    """Return the beacon and long-connection results of one slice's events."""
    connections = events.filter(pl.col("qname").is_null()).select(
        "org", "host", "dest", "remote", "ts", "sent"
    )
    scored = beacons.score_pairs(connections, config).collect().lazy()  # used twice below
    beaconing = _results(
        scored.filter(pl.col("score") >= floor), BEACON, [*beacons.PARTS, "median_interval"]
    )
    hours = pl.col("longest_session_hours")
    span = max(1e-9, 24 - config.long_session_hours)
    long = scored.filter(
        (hours >= config.long_session_hours) & (pl.col("score") < config.threshold)
    ).with_columns(
        (config.threshold + (1 - config.threshold) * ((hours - config.long_session_hours) / span))
        .clip(0, 1)
        .alias("score")
    )
    return pl.concat([beaconing, _results(long, LONG, ["longest_session_hours"])])


def dns_results(
    events: pl.LazyFrame, config: BehaviourConfig, floor: float, known: pl.LazyFrame | None
) -> pl.LazyFrame:
    """Return the DNS tunnelling results of one slice's events."""
    queries = events.filter(pl.col("qname").is_not_null()).select(
        "org", "host", "qname", "rcode", "ts", "remote"
    )
    scored = dns.score_queries(queries, config, known)
    return _results(scored.filter(pl.col("score") >= floor), DNS_TUNNEL, dns.PARTS)


@dataclass(frozen=True)
class Lookback:
    """What the days before the analysed one saw: each host's registered domains, fingerprints."""

    domains: pl.LazyFrame | None = None
    fingerprints: pl.LazyFrame | None = None


def lookback(root: Path, day: date, config: BehaviourConfig) -> Lookback:
    """Read the registered domains (per host) and fingerprints of the lookback days."""
    parts = [
        read_slice(part)
        for _, part in slices_between(
            root, day - timedelta(days=config.lookback_days), day - timedelta(days=1)
        )
    ]
    if not parts:
        return Lookback()
    before = pl.concat(parts)
    domains = (
        before.filter(pl.col("qname").is_not_null())
        .select("org", "host", dns.registered_domain(pl.col("qname")).alias("dest"))
        .unique()
        .collect()
    )
    prints = rare.sightings(before).select("fingerprint").unique().collect()
    return Lookback(domains.lazy(), prints.lazy())


def analyse_slice(
    part: Slice, config: BehaviourConfig, floor: float, known: Lookback
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return one slice's scored results and its fingerprint sightings.

    The slice (one organisation's day, its few columns) is read once into memory: the
    analytics scan it several times, and parsing the files again each time costs more.
    """
    events = read_slice(part).collect().lazy()
    results, seen = pl.collect_all(
        [
            pl.concat(
                [
                    connection_results(events, config, floor),
                    dns_results(events, config, floor, known.domains),
                ]
            ),
            rare.sightings(events),
        ]
    )
    return results, seen


def rank(results: pl.DataFrame, threshold: float) -> pl.DataFrame:
    """Add ``orgs`` (members where the destination scored at or above ``threshold`` under the
    same analytic) and sort: most organisations first, then score, then names."""
    alerting = results.filter(pl.col("score") >= threshold)
    spread = alerting.group_by("analytic", "dest").agg(pl.col("org").n_unique().alias("orgs"))
    return (
        results.join(spread, on=["analytic", "dest"], how="left")
        .with_columns(pl.col("orgs").fill_null(0).cast(pl.Int64))
        .sort(
            ["orgs", "score", "analytic", "org", "host", "dest"],
            descending=[True, True, False, False, False, False],
        )
    )


def analyse_day(
    root: Path,
    day: date,
    config: BehaviourConfig,
    *,
    floor: float | None = None,
    use_lookback: bool = True,
) -> pl.DataFrame:
    """Return every result of ``day`` scoring at least ``floor`` (default: the threshold)."""
    low = config.threshold if floor is None else floor
    known = lookback(root, day, config) if use_lookback else Lookback()
    found = [pl.DataFrame(schema=RESULT_SCHEMA)]
    seen = []
    for part in day_slices(root, day):
        results, sightings = analyse_slice(part, config, low, known)
        found.append(results)
        seen.append(sightings)
    if seen:
        prints = rare.score_fingerprints(pl.concat(seen).lazy(), config, known.fingerprints)
        found.append(_results(prints.filter(pl.col("score") >= low), RARE, rare.PARTS).collect())
    return rank(pl.concat(found), config.threshold)
