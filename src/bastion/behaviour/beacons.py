"""Beacon and long-connection scores of (member host, destination) pairs, in Polars.

A connection frame has one row per archived connection: ``org``, ``host`` (the
member's address), ``dest`` (the server name when the log has one, else the
remote address), ``ts`` and ``sent`` (bytes the host sent, may be null).

Beacon score of a pair with ``n`` connections and inter-arrival times ``d``
(seconds), each part 0–1:

* ``interval_skew`` = 1 − |Bowley skew of d| (Bowley: (Q1 + Q3 − 2·Q2) / (Q3 − Q1),
  0 when Q3 − Q1 is under 1 % of Q2): a beacon's intervals are symmetric about their median;
* ``interval_mad`` = max(0, 1 − 2·MAD(d) / median(d)): a beacon's intervals stay
  close to their median (a 30 % jitter still scores about 0.8; people browsing
  score about 0);
* ``size_skew`` and ``size_mad``: the same two over the bytes sent (MAD over
  max(median, 1), so constant zero-byte attempts are perfectly regular);
* ``count`` = min(1, ln n / ln full), ``full`` one connection per 15 minutes;
* ``coverage`` = hours of the window with a connection / hours of the window.

The total is 0.25·interval_skew + 0.25·interval_mad + 0.1·size_skew +
0.1·size_mad + 0.1·count + 0.2·coverage; when no size is known the size parts
drop out and the others are re-weighted. Only pairs with at least
``beacon_min_connections`` connections are scored.

A long connection is a pair whose events, chained while each is at most
``session_gap_minutes`` after the last, make a session of ``long_session_hours``
or more (the common event schema holds no per-connection duration, so a long
session is seen as the events it keeps logging).
"""

from __future__ import annotations

import polars as pl

from bastion.behaviour.config import BehaviourConfig

PAIR = ["org", "host", "dest"]
WEIGHTS = {
    "interval_skew": 0.25,
    "interval_mad": 0.25,
    "size_skew": 0.1,
    "size_mad": 0.1,
    "count": 0.1,
    "coverage": 0.2,
}
PARTS = list(WEIGHTS)


def _bowley(values: pl.Expr) -> pl.Expr:
    q1, q2, q3 = (values.quantile(q, "linear") for q in (0.25, 0.5, 0.75))
    spread = q3 - q1
    # A spread under 1 % of the median is rounding (a microsecond, a byte): no skew to speak of.
    return pl.when(spread > 0.01 * q2.abs()).then((q1 + q3 - 2 * q2) / spread).otherwise(0.0)


def _mad_ratio(values: pl.Expr, floor: float) -> pl.Expr:
    median = values.median()
    return (values - median).abs().median() / pl.max_horizontal(median, pl.lit(floor))


def _regularity(values: pl.Expr, name: str, floor: float) -> list[pl.Expr]:
    return [
        (1 - _bowley(values).abs()).clip(0, 1).alias(f"{name}_skew"),
        (1 - 2 * _mad_ratio(values, floor)).clip(0, 1).alias(f"{name}_mad"),
    ]


def total_score(parts: dict[str, pl.Expr] | None = None) -> pl.Expr:
    """Return the weighted total of the part columns, re-weighted over those not null."""
    columns = parts or {name: pl.col(name) for name in PARTS}
    weighted = pl.sum_horizontal(columns[n].fill_null(0) * w for n, w in WEIGHTS.items())
    present = pl.sum_horizontal(
        columns[n].is_not_null().cast(pl.Float64) * w for n, w in WEIGHTS.items()
    )
    return (weighted / present).alias("score")


def busy_pairs(connections: pl.LazyFrame, config: BehaviourConfig) -> pl.LazyFrame:
    """Return the connections of pairs with enough of them to be scored (the rest are dropped)."""
    counts = (
        connections.group_by(PAIR)
        .agg(pl.len().alias("n"))
        .filter(pl.col("n") >= config.beacon_min_connections)
        .select(PAIR)
    )
    return connections.join(counts, on=PAIR, how="semi")


def score_pairs(connections: pl.LazyFrame, config: BehaviourConfig) -> pl.LazyFrame:
    """Return one row per busy pair: counts, first/last seen, the beacon parts and score, and
    the longest session in hours."""
    busy = busy_pairs(connections, config).sort([*PAIR, "ts"])
    gap = (pl.col("ts").diff().dt.total_microseconds() / 1e6).over(PAIR)
    gap_limit = config.session_gap_minutes * 60
    stepped = busy.with_columns(gap.alias("delta")).with_columns(
        (pl.col("delta").is_null() | (pl.col("delta") > gap_limit))
        .cast(pl.Int32)
        .cum_sum()
        .over(PAIR)
        .alias("session")
    )
    session = [*PAIR, "session"]
    span = (pl.col("ts").max() - pl.col("ts").min()).over(session).dt.total_microseconds() / 3.6e9
    stepped = stepped.with_columns(span.alias("session_hours"))
    delta = pl.col("delta").drop_nulls()
    sent = pl.col("sent").drop_nulls().cast(pl.Float64)
    full = config.full_count
    scored = stepped.group_by(PAIR).agg(
        pl.len().alias("connections"),
        pl.col("ts").min().alias("first_seen"),
        pl.col("ts").max().alias("last_seen"),
        pl.col("remote").drop_nulls().first().alias("remote"),
        pl.col("sent").sum().alias("bytes_sent"),
        *_regularity(delta, "interval", 1e-6),
        *_regularity(sent, "size", 1.0),
        pl.col("sent").is_not_null().any().alias("_sized"),
        (pl.len().log() / pl.lit(full).log()).clip(0, 1).alias("count"),
        (pl.col("ts").dt.truncate("1h").n_unique() / config.window_hours)
        .clip(0, 1)
        .alias("coverage"),
        delta.median().alias("median_interval"),
        pl.col("session_hours").max().alias("longest_session_hours"),
    )
    no_size = ~pl.col("_sized")
    return (
        scored.with_columns(
            pl.when(no_size).then(None).otherwise(pl.col("size_skew")).alias("size_skew"),
            pl.when(no_size).then(None).otherwise(pl.col("size_mad")).alias("size_mad"),
        )
        .with_columns(total_score())
        .drop("_sized")
    )
