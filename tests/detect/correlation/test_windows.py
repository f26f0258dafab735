"""Window aggregates line up with their observations over many groups (regression)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from bastion.core.events import TIMESTAMP
from bastion.detect.correlation import CorrelationEngine
from bastion.detect.correlation import observations as obs
from bastion.detect.correlation.windows import evaluate

RULE = """
title: Many
id: 6e5d4c3b-2a19-4f08-8e7d-6c5b4a392817
correlation:
    type: value_sum
    rules: [hit]
    group-by: [host]
    timespan: 1h
    condition: {field: bytes, gt: 10}
"""


def test_rolling_results_line_up_with_rows_over_thousands_of_groups() -> None:
    # Polars returns a grouped rolling result in no fixed order once there are many
    # groups; the engine must still give each observation its own window.
    spec = CorrelationEngine.from_yaml(RULE).specs[0]
    rng = np.random.default_rng(5)
    n = 60_000
    start = datetime(2026, 12, 1, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "_seq": pl.Series(np.arange(n), dtype=pl.Int64),
            "_batch": pl.Series(np.zeros(n), dtype=pl.Int64),
            "_ref": pl.Series(np.zeros(n), dtype=pl.Int32),
            "@timestamp": pl.Series(np.sort(rng.integers(0, 7_200_000_000, n))).cast(pl.Int64),
            "_g0": pl.Series(rng.integers(0, 3000, n)).cast(pl.String),
            "_value": pl.Series(rng.integers(0, 5, n), dtype=pl.Float64),
        }
    ).with_columns(
        (pl.lit(start).cast(TIMESTAMP) + pl.duration(microseconds=pl.col("@timestamp"))).alias(
            "@timestamp"
        ),
        *(pl.lit(None, t).alias(c) for c, t in obs.SUMMARY_SCHEMA.items()),
        pl.lit(None, pl.Boolean).alias("_met"),
        pl.lit(True).alias("_new"),
    )
    got = evaluate(spec, frame)
    independent = got.with_columns(
        pl.col("_value")
        .rolling_sum_by("@timestamp", timedelta(hours=1), closed="both")
        .over("_g0")
        .alias("_want")
    )
    assert (independent["_metric"] == independent["_want"]).all()
