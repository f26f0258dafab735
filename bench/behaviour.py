"""Benchmark behavioural hunting: beacons, long connections and rare fingerprints over a day.

A synthetic archived day (``--events`` connections over ``--orgs`` members, in the
archive's layout, one Parquet file per organisation) is generated once with numpy
and Polars and cached under /tmp. Each engine then runs in a fresh process of its
own, so its peak memory (the process's maximum resident set) is its own:

* **bastion**: ``bastion.behaviour.analyse_day`` (Polars, one organisation at a time);
* **duckdb-sql**: the obvious alternative, the same beacon, long-connection and
  rare-fingerprint scores as one plain DuckDB SQL query over the same files.

Both must find the same planted beacons. Then the labelled demo day is generated,
ingested and hunted, and its precision and recall against the labels recorded.
The results file records the machine's load average over the run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from bench._soc import load_average, write_results

RESULTS = Path(__file__).parent / "results" / "behaviour.json"
CACHE = Path("/tmp/bastion-bench-behaviour")
DAY = date(2026, 1, 5)
BEACONS_PER_ORG = 2
COMMON_JA3 = [f"{i:032x}" for i in range(1, 25)]


def _org_frame(org: int, events: int, seed: int) -> pl.DataFrame:
    """Return one member's day: people browsing (most events) and a few planted beacons."""
    rng = np.random.default_rng(seed * 100_003 + org)
    start = int(np.datetime64(DAY.isoformat(), "us").astype(np.int64))
    day_us = 86_400 * 1_000_000
    beacon_n = 288  # every 5 minutes with 20 % jitter
    planted = BEACONS_PER_ORG * beacon_n
    n = events - planted
    hosts = rng.integers(0, 2000, n)
    # Destinations: a few popular (skewed), most rare; working hours busier.
    dests = (rng.pareto(1.2, n) * 50).astype(np.int64) % 200_000
    hour = rng.choice(24, n, p=np.array([1] * 7 + [6] * 11 + [2] * 6) / 85)
    stamps = start + hour * 3_600_000_000 + rng.integers(0, 3_600_000_000, n)
    sent = (rng.lognormal(7, 1.6, n)).astype(np.int64)
    ja3_pick = rng.integers(0, len(COMMON_JA3), n)
    beacon_stamps = [
        start + np.arange(beacon_n) * 300_000_000 + rng.integers(-60_000_000, 60_000_000, beacon_n)
        for _ in range(BEACONS_PER_ORG)
    ]
    frame = pl.DataFrame(
        {
            "@timestamp": np.concatenate([stamps, *beacon_stamps]).clip(start, start + day_us - 1),
            "host": np.concatenate([hosts, *[np.full(beacon_n, 5000 + b) for b in range(BEACONS_PER_ORG)]]),
            "dest": np.concatenate([dests, *[np.full(beacon_n, 900_000 + org * 10 + b) for b in range(BEACONS_PER_ORG)]]),
            "source.bytes": np.concatenate([sent, rng.integers(600, 700, planted)]),
            "ja3": np.concatenate([ja3_pick, np.full(planted, -1 - org)]),
        }
    )  # fmt: skip
    host_ip = pl.format("10.{}.{}.{}", org // 250, org % 250, pl.col("host"))
    return frame.select(
        pl.col("@timestamp").cast(pl.Datetime("us", "UTC")),
        pl.lit(f"M{org:04d}").alias("organization.id"),
        host_ip.alias("host.ip"),
        host_ip.alias("source.ip"),
        pl.format("198.18.{}.{}", pl.col("dest") // 256 % 65536, pl.col("dest") % 256).alias(
            "destination.ip"
        ),
        pl.col("source.bytes"),
        pl.when(pl.col("ja3") >= 0)
        .then(pl.col("ja3").replace_strict(dict(enumerate(COMMON_JA3)), return_dtype=pl.String))
        .otherwise(pl.format("rare{}", pl.col("ja3").abs()).str.pad_start(32, "0"))
        .alias("tls.client.ja3"),
    ).sort("@timestamp")


def generate(events: int, orgs: int, seed: int = 7) -> Path:
    """Write (once) the synthetic day in the archive's layout; return the archive root."""
    root = CACHE / f"{events}-{orgs}-{seed}" / "archive"
    done = root.parent / "done"
    if done.exists():
        return root
    shutil.rmtree(root.parent, ignore_errors=True)
    per_org = events // orgs
    for org in range(orgs):
        folder = root / f"day={DAY.isoformat()}" / f"org=M{org:04d}"
        folder.mkdir(parents=True)
        _org_frame(org, per_org, seed).write_parquet(folder / "part-c0.parquet", compression="lz4")
    done.write_text("ok\n", encoding="utf-8")
    return root


def _bastion(root: Path) -> pl.DataFrame:
    from bastion.behaviour.analyse import analyse_day
    from bastion.behaviour.config import DEFAULT_CONFIG

    return analyse_day(root, DAY, DEFAULT_CONFIG, use_lookback=False)


DUCKDB_SQL = """
WITH ev AS (
  SELECT "organization.id" AS org, "host.ip" AS host, "destination.ip" AS dest,
         "@timestamp" AS ts, "source.bytes" AS sent, "tls.client.ja3" AS ja3
  FROM read_parquet({files})
),
busy AS (SELECT org, host, dest FROM ev GROUP BY ALL HAVING count(*) >= 12),
d AS (
  SELECT ev.*, (epoch_us(ts) - lag(epoch_us(ts)) OVER w) / 1e6 AS delta
  FROM ev SEMI JOIN busy USING (org, host, dest)
  WINDOW w AS (PARTITION BY org, host, dest ORDER BY ts)
),
s AS (
  SELECT *, sum(CASE WHEN delta IS NULL OR delta > 300 THEN 1 ELSE 0 END)
           OVER (PARTITION BY org, host, dest ORDER BY ts) AS session
  FROM d
),
spans AS (
  SELECT org, host, dest, max(hours) AS longest FROM (
    SELECT org, host, dest, session, (epoch_us(max(ts)) - epoch_us(min(ts))) / 3.6e9 AS hours
    FROM s GROUP BY ALL) GROUP BY ALL
),
q AS (
  SELECT org, host, dest, count(*) AS n,
    quantile_cont(delta, 0.25) AS d1, median(delta) AS d2, quantile_cont(delta, 0.75) AS d3,
    mad(delta) AS dmad,
    quantile_cont(sent, 0.25) AS s1, median(sent) AS s2, quantile_cont(sent, 0.75) AS s3,
    mad(sent) AS smad,
    count(DISTINCT date_trunc('hour', ts)) AS hours
  FROM d GROUP BY ALL
),
parts AS (
  SELECT org, host, dest, n,
    greatest(0, least(1, 1 - abs(CASE WHEN d3 > d1 THEN (d1 + d3 - 2 * d2) / (d3 - d1) ELSE 0 END))) AS iskew,
    greatest(0, least(1, 1 - 2 * dmad / greatest(d2, 1e-6))) AS imad,
    greatest(0, least(1, 1 - abs(CASE WHEN s3 > s1 THEN (s1 + s3 - 2 * s2) / (s3 - s1) ELSE 0 END))) AS sskew,
    greatest(0, least(1, 1 - 2 * smad / greatest(s2, 1))) AS smadscore,
    greatest(0, least(1, ln(n) / ln(96))) AS cnt,
    least(1, hours / 24) AS coverage
  FROM q
),
beacons AS (
  SELECT 'beacon' AS analytic, p.org, p.host, p.dest,
    0.25 * iskew + 0.25 * imad + 0.1 * sskew + 0.1 * smadscore + 0.1 * cnt + 0.2 * coverage AS score,
    spans.longest
  FROM parts p JOIN spans USING (org, host, dest)
),
prints AS (
  SELECT ja3, count(DISTINCT (org, host)) AS hosts FROM ev WHERE ja3 IS NOT NULL GROUP BY ALL
),
rare AS (
  SELECT DISTINCT 'rare-fingerprint' AS analytic, ev.org, ev.host, 'ja3:' || ev.ja3 AS dest,
    0.6 + 0.3 / prints.hosts AS score, NULL::DOUBLE AS longest
  FROM ev JOIN prints USING (ja3) WHERE prints.hosts <= 2
)
SELECT analytic, org, host, dest, score FROM beacons WHERE score >= 0.7
UNION ALL
SELECT 'long-connection', org, host, dest, 0.7 FROM beacons WHERE score < 0.7 AND longest >= 8
UNION ALL
SELECT analytic, org, host, dest, score FROM rare
ORDER BY score DESC
"""


def _duckdb(root: Path) -> pl.DataFrame:
    import duckdb

    files = sorted(str(p) for p in root.rglob("*.parquet"))
    connection = duckdb.connect(":memory:")
    connection.execute("SET memory_limit = '3GB'")
    connection.execute(f"SET temp_directory = '{tempfile.gettempdir()}/bench-behaviour-spill'")
    listed = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    return connection.sql(DUCKDB_SQL.format(files=listed)).pl()


def _measure(engine: str, root: str, out: Any) -> None:
    """Run one engine in this (fresh) process; send back its time, peak memory and findings."""
    started = time.perf_counter()
    found = (_bastion if engine == "bastion" else _duckdb)(Path(root))
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    beacons = found.filter(pl.col("analytic") == "beacon")
    out.send(
        {
            "seconds": elapsed,
            "peak_mib": peak,
            "results": found.height,
            "beacons": sorted(zip(beacons["org"], beacons["host"], strict=True)),
            "rare": found.filter(pl.col("analytic") == "rare-fingerprint").height,
        }
    )


def measure(engine: str, root: Path) -> dict[str, Any]:
    """Return one engine's figures, run in a fresh process."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_measure, args=(engine, str(root), send))
    process.start()
    figures: dict[str, Any] = receive.recv()
    process.join()
    return figures


def demo_precision_recall(events: int) -> dict[str, Any]:
    """Generate, ingest and hunt the labelled demo day; return its score against the labels."""
    from bastion.audit import Actor
    from bastion.core.settings import Settings
    from bastion.demo import generate_federation, load_federation
    from bastion.demo.behaviour_hunt import hunt_demo_day
    from bastion.demo.day import generate_and_ingest_day
    from bastion.demo.traffic import DEFAULT_DAY
    from bastion.store import Store
    from bastion.store.migrate import upgrade

    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        store = Store.from_url(f"sqlite:///{base / 'bastion.db'}")
        upgrade(store.engine)
        orgs = generate_federation(size="small")
        actor = Actor.cli("bench")
        with store.session() as session:
            load_federation(session, orgs, actor=actor)
        settings = Settings(data_dir=base / "data")
        manifest, _ = generate_and_ingest_day(
            store, settings, orgs, base / "day", events=events, day=DEFAULT_DAY, actor=actor
        )
        with store.session() as session:
            score = hunt_demo_day(
                session, settings.archive_dir, DEFAULT_DAY, manifest.attacks, actor
            )
        store.dispose()
    return {
        "planted": score.planted,
        "found": score.found,
        "alerting": score.alerting,
        "true_positives": score.true_positives,
        "benign_alerted": score.benign_alerted,
        "precision": score.precision,
        "recall": score.recall,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000_000)
    parser.add_argument("--orgs", type=int, default=200)
    parser.add_argument("--demo-events", type=int, default=200_000)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    loads = [load_average()]
    started = time.perf_counter()
    root = generate(args.events, args.orgs)
    generated = time.perf_counter() - started
    loads.append(load_average())
    figures = {engine: measure(engine, root) for engine in ("bastion", "duckdb-sql")}
    loads.append(load_average())
    planted = args.orgs * BEACONS_PER_ORG
    case = f"{args.events:,} archived connections, {args.orgs} organisations"
    results: list[dict[str, Any]] = [
        {"case": f"generate {case} (cached in /tmp)", "metric": "time", "value": round(generated, 1), "unit": "s"},
    ]  # fmt: skip
    for engine, got in figures.items():
        found = len(got["beacons"])
        results += [
            {"case": f"{engine}: beacons, long connections, rare fingerprints over {case}",
             "metric": "time", "value": round(got["seconds"], 1), "unit": "s"},
            {"case": f"{engine}: peak memory (process maximum resident set)", "metric": "peak",
             "value": round(got["peak_mib"]), "unit": "MiB"},
            {"case": f"{engine}: planted beacons found of {planted}", "metric": "count",
             "value": found, "unit": "beacons"},
            {"case": f"{engine}: results at or above the threshold", "metric": "count",
             "value": got["results"], "unit": "results"},
        ]  # fmt: skip
    ratio = figures["duckdb-sql"]["seconds"] / max(figures["bastion"]["seconds"], 1e-9)
    results.append(
        {"case": "duckdb-sql time / bastion time", "metric": "ratio", "value": round(ratio, 2),
         "unit": "x"}
    )  # fmt: skip
    demo = demo_precision_recall(args.demo_events)
    loads.append(load_average())
    for metric in ("precision", "recall"):
        results.append(
            {"case": f"demo day ({args.demo_events:,} events): {demo['found']} of "
             f"{demo['planted']} planted beacons/tunnels found, {demo['alerting']} alerting, "
             f"{demo['benign_alerted']} on benign periodic traffic", "metric": metric,
             "value": round(demo[metric], 3), "unit": "share"}
        )  # fmt: skip
    write_results(args.results, results, loads)


if __name__ == "__main__":
    main()
