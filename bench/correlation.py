"""Correlation benchmark: hit rows per second through the correlation engine.

Generates a stream of base-rule hits (default 1,000,000 over 10,000 groups,
one event per hit, in batches of 100,000 spanning two hours; a tenth of the
groups are hot and get half of the hits, so rules fire) and feeds it through
``CorrelationEngine`` once per correlation type alone and once with all of
them loaded. Prints and writes ``bench/results/correlation.json``.

    python -m bench.correlation [--hits N] [--groups N] [--batch N] [--results PATH]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import psutil

from bastion.core.events import TIMESTAMP
from bastion.detect.correlation import CorrelationEngine, CorrelationState
from bench._boundary.report import Load, entry, write_document

RESULTS = Path(__file__).resolve().parent / "results" / "correlation.json"
T0 = datetime(2026, 12, 1, tzinfo=UTC)
SPAN = timedelta(hours=2)

RULES = {
    "event_count": """
title: Many failures from one address
id: 00000000-0000-4000-8000-000000000001
correlation:
    type: event_count
    rules: [failed]
    group-by: [source.ip]
    timespan: 1h
    condition: {gte: 100}
""",
    "value_count": """
title: Many users from one address
id: 00000000-0000-4000-8000-000000000002
correlation:
    type: value_count
    rules: [failed]
    group-by: [source.ip]
    timespan: 1h
    condition: {field: user.name, gte: 20}
""",
    "value_sum": """
title: Much data from one address
id: 00000000-0000-4000-8000-000000000003
correlation:
    type: value_sum
    rules: [failed]
    group-by: [source.ip]
    timespan: 1h
    condition: {field: source.bytes, gt: 5000000}
""",
    "temporal_ordered": """
title: Recon then exploit
id: 00000000-0000-4000-8000-000000000004
correlation:
    type: temporal_ordered
    rules: [recon, exploit]
    group-by: [source.ip]
    timespan: 5m
""",
}


def batches(
    hits: int, groups: int, size: int, seed: int = 7
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Yield (events, hits) batches in time order."""
    rng = np.random.default_rng(seed)
    hot = max(1, groups // 10)
    per_us = SPAN / timedelta(microseconds=1) / hits
    for start in range(0, hits, size):
        n = min(size, hits - start)
        is_hot = rng.random(n) < 0.5
        group = np.where(is_hot, rng.integers(0, hot, n), rng.integers(hot, groups, n))
        offsets = np.sort(rng.integers(0, int(per_us * n), n)) + int(per_us * start)
        kind = rng.choice(np.array(["failed", "recon", "exploit"]), n, p=[0.8, 0.1, 0.1])
        events = pl.DataFrame(
            {
                "@timestamp": pl.Series(offsets, dtype=pl.Int64),
                "source.ip": [
                    f"10.{g // 65536}.{(g // 256) % 256}.{g % 256}" for g in group.tolist()
                ],
                "user.name": pl.Series(rng.integers(0, 40, n)).cast(pl.String),
                "source.bytes": pl.Series(rng.integers(100, 200_000, n), dtype=pl.Int64),
            }
        ).with_columns(
            (pl.lit(T0).cast(TIMESTAMP) + pl.duration(microseconds=pl.col("@timestamp"))).alias(
                "@timestamp"
            )
        )
        frame = pl.DataFrame(
            {
                "rule.id": kind,
                "rule.name": kind,
                "rule.title": kind,
                "rule.level": ["low"] * n,
                "row": pl.Series(np.arange(n), dtype=pl.UInt32),
            }
        )
        yield events, frame


def run(case: str, text: str, stream: list[tuple[pl.DataFrame, pl.DataFrame]]) -> dict[str, Any]:
    engine = CorrelationEngine.from_yaml(text)
    seconds = cpu = 0.0
    firings = 0
    peak = 0
    state = CorrelationState()
    for events, hits in stream:
        began, began_cpu = time.perf_counter(), time.process_time()
        fired, state = engine.process(events, hits, state)
        seconds += time.perf_counter() - began
        cpu += time.process_time() - began_cpu
        firings += fired.height
        peak = max(peak, state.rows)
    total = sum(h.height for _, h in stream)
    return {
        "case": case,
        "hits": total,
        "seconds": seconds,
        "hits_per_s": total / seconds if seconds else None,
        # CPU time over all threads: the per-core figure, less disturbed by a shared machine
        "hits_per_cpu_s": total / cpu if cpu else None,
        "firings": firings,
        "peak_state_rows": peak,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=1_000_000)
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    load = Load()
    stream = list(batches(args.hits, args.groups, args.batch))
    runs = [run(case, text, stream) for case, text in RULES.items()]
    runs.append(run("all", "\n---\n".join(RULES.values()), stream))
    rss = psutil.Process().memory_info().rss / 2**20
    results = []
    print(f"{args.hits:,} hits over {args.groups:,} groups, batches of {args.batch:,}")
    for r in runs:
        print(
            f"  {r['case']:<17} {r['hits_per_s']:>10,.0f} hits/s {r['hits_per_cpu_s']:>10,.0f} "
            f"hits/CPU-s  {r['firings']:>7,} firings  "
            f"peak state {r['peak_state_rows']:>9,} rows"
        )
        results += [
            entry(r["case"], "hits_per_s", r["hits_per_s"], "hits/s"),
            entry(r["case"], "hits_per_cpu_s", r["hits_per_cpu_s"], "hits/CPU-s"),
            entry(r["case"], "firings", float(r["firings"]), "firings"),
            entry(r["case"], "peak_state_rows", float(r["peak_state_rows"]), "rows"),
        ]
    results.append(entry("all", "rss_mb_at_end", rss, "MB"))
    print(f"  process RSS at the end: {rss:,.0f} MB")
    write_document(
        args.results,
        results,
        load,
        parameters={"hits": args.hits, "groups": args.groups, "batch": args.batch, "span_h": 2},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
