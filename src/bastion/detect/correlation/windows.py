"""Sliding windows over observations: when does a correlation's condition hold, and fire.

An *observation* is one hit of a rule a correlation refers to (or one firing of
a chained correlation), reduced to its time, its group values ``_g0 … _gN``, the
value field of value_* types and a short summary for evidence.

Windows slide with the events, they are not fixed buckets: for every new
observation at time ``t`` the window is every observation of the same group
with a time in ``[t - timespan, t]`` (both ends included), whichever batch it
came in. The condition is evaluated on that window; it *holds* at the
observation. A group **fires** at an observation where the condition holds
unless it already held at an earlier observation of that group less than one
timespan before: one firing per episode, and a new one once the group has gone
a whole timespan without the condition holding. A late observation (older than
others already seen) is placed in its windows too: the group's later
observations are evaluated again, and a window it completes fires then, at
that window's own time. Everything is a Polars rolling
group-by, as-of join or window expression over the whole frame, never a loop
over observations.
"""

from __future__ import annotations

import polars as pl

from bastion.detect.correlation.rules import Bound, CorrelationSpec

SEQ, NEW, MET = "_seq", "_new", "_met"
REF, VALUE, TS = "_ref", "_value", "@timestamp"
COUNT, FIRST, METRIC_COL = "_count", "_first", "_metric"
GROUP = "_group"
# One per observation, as a column (a literal cannot be rolled by time).
_ONE = pl.col(TS).is_not_null().cast(pl.Int64)


def group_columns(spec: CorrelationSpec) -> list[str]:
    """Return the internal group columns of ``spec`` (one constant column without group-by)."""
    return [f"_g{i}" for i in range(len(spec.group_by))] or ["_gall"]


def condition(bounds: tuple[Bound, ...], value: pl.Expr) -> pl.Expr:
    """Return a boolean expression: ``value`` satisfies every bound (null is false)."""
    checks = []
    for bound in bounds:
        limit = pl.lit(bound.threshold)
        match bound.op:
            case "gt":
                checks.append(value > limit)
            case "gte":
                checks.append(value >= limit)
            case "lt":
                checks.append(value < limit)
            case "lte":
                checks.append(value <= limit)
            case "eq":
                checks.append(value == limit)
            case _:
                checks.append(value != limit)
    return pl.all_horizontal(checks).fill_null(False)


def _aggregate(spec: CorrelationSpec) -> pl.Expr:
    value = pl.col(VALUE)
    match spec.type:
        case "event_count":
            return pl.len().cast(pl.Float64)
        case "value_count":
            return value.drop_nulls().n_unique().cast(pl.Float64)
        case "temporal":
            return pl.col(REF).n_unique().cast(pl.Float64)
        case "value_sum":
            return value.sum()
        case "value_avg":
            return value.mean()
        case _:  # value_percentile with a percentile, value_median
            assert spec.percentile is not None
            return value.quantile(spec.percentile / 100, "linear")


def _rolling(spec: CorrelationSpec, frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Add window count, start and metric at every observation (frame sorted by keys, time)."""
    aggregations = [pl.len().cast(pl.Int64).alias(COUNT), pl.col(TS).min().alias(FIRST)]
    share = spec.value_share
    if not share:
        aggregations.append(_aggregate(spec).alias(METRIC_COL))
    rolled = frame.rolling(index_column=TS, period=spec.timespan, closed="both", group_by=keys).agg(
        aggregations
    )
    # The rolling result comes in no promised order (multi-threaded, by group): sort it
    # like the frame. Observations of one group and instant share one window, so their
    # rows are alike and line up whatever their order among themselves.
    rolled = rolled.sort([*keys, TS], maintain_order=True)
    frame = frame.hstack(rolled.select(COUNT, FIRST, *([] if share else [METRIC_COL])))
    if share:
        # value_percentile without `percentile`: the share (in %) of the window's
        # observations whose value is this observation's value (rare values are small).
        same = (
            _ONE.rolling_sum_by(TS, spec.timespan, closed="both")
            .over([*keys, VALUE])
            .cast(pl.Float64)
        )
        metric = pl.when(pl.col(VALUE).is_null()).then(None).otherwise(same)
        frame = frame.with_columns(
            (pl.lit(100.0) * metric / pl.col(COUNT).cast(pl.Float64)).alias(METRIC_COL)
        )
    return frame


def _ordered(spec: CorrelationSpec, frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Find, at each observation of the last rule, the latest start of an in-order chain.

    Walking back from the last rule, each step takes the latest observation of
    the previous rule at or before the one chosen after it (an as-of join); the
    latest choice at every step gives the latest possible start, so the chain
    fits in the timespan if any does. Equal times count as in order.
    """
    last = len(spec.references) - 1
    chain = frame.filter(pl.col(REF) == last).select(*keys, SEQ, pl.col(TS).alias("_t"))
    for step in range(last - 1, -1, -1):
        earlier = (
            frame.filter(pl.col(REF) == step).select(*keys, pl.col(TS).alias("_tp")).sort("_tp")
        )
        chain = (
            chain.sort("_t")
            .join_asof(
                earlier,
                left_on="_t",
                right_on="_tp",
                by=keys,
                strategy="backward",
                check_sortedness=False,  # sorted by time overall, hence within every group
            )
            .filter(pl.col("_tp").is_not_null())
            .select(*keys, SEQ, pl.col("_tp").alias("_t"))
        )
    starts = chain.select(SEQ, pl.col("_t").alias(FIRST))
    frame = frame.join(starts, on=SEQ, how="left", maintain_order="left")
    complete = pl.col(FIRST).is_not_null() & (pl.col(TS) - pl.col(FIRST) <= spec.timespan)
    return frame.with_columns(
        pl.when(complete).then(pl.lit(float(len(spec.references)))).alias(METRIC_COL),
        pl.when(complete).then(pl.col(FIRST)).alias(FIRST),
    ).with_columns(
        # events in the chain's window, counted over the group like the other types
        _ONE.rolling_sum_by(TS, spec.timespan, closed="both").over(keys).alias(COUNT)
    )


def evaluate(spec: CorrelationSpec, frame: pl.DataFrame) -> pl.DataFrame:
    """Evaluate the new observations of ``frame`` (old ones give context); flag firings.

    Returns ``frame`` sorted by group and time with ``_met`` set on new rows, the
    window's ``_count``, ``_first`` and ``_metric``, and ``_fire``.
    """
    columns = group_columns(spec)
    frame = frame.sort([*columns, TS, SEQ])
    # One integer per group, numbered in sorted order: grouping by it is cheaper than by text.
    changed = pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift(1)) for c in columns)
    frame = frame.with_columns(changed.fill_null(True).cum_sum().cast(pl.Int64).alias(GROUP))
    keys = [GROUP]
    if spec.type == "temporal_ordered":
        frame = _ordered(spec, frame, keys)
    else:
        frame = _rolling(spec, frame, keys)
    holds = condition(spec.bounds, pl.col(METRIC_COL))
    if spec.type == "temporal_ordered":
        holds = holds & pl.col(FIRST).is_not_null()
    # A late observation changes the windows of the group's later ones: evaluate those
    # again too (in a stream in time order there are none).
    since = pl.when(pl.col(NEW)).then(pl.col(TS)).min().over(keys)
    again = pl.col(NEW) | (pl.col(TS) >= since)
    frame = frame.with_columns(
        again.alias("_again"),
        (~pl.col(NEW) & pl.col(MET).fill_null(False)).alias("_was"),
    ).with_columns(pl.when(pl.col("_again")).then(holds).otherwise(pl.col(MET)).alias(MET))
    # Previous observation of the group where the condition held (ordered by time, then arrival).
    previous = (
        pl.when(pl.col(MET)).then(pl.col(TS)).otherwise(None).shift(1).forward_fill().over(keys)
    )
    # Next observation that held already before this batch: a late observation must
    # not fire again an episode that has been reported.
    reported = (
        pl.when(pl.col("_was"))
        .then(pl.col(TS))
        .otherwise(None)
        .shift(-1)
        .backward_fill()
        .over(keys)
    )
    frame = frame.with_columns(previous.alias("_previous"), reported.alias("_reported"))
    fire = (
        pl.col("_again")
        & pl.col(MET)
        & ~pl.col("_was")
        & (pl.col("_previous").is_null() | (pl.col(TS) - pl.col("_previous") > spec.timespan))
        & (pl.col("_reported").is_null() | (pl.col("_reported") - pl.col(TS) > spec.timespan))
    )
    return frame.with_columns(fire.alias("_fire")).drop(
        "_previous", "_reported", "_again", "_was", GROUP
    )
