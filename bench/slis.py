"""SLIs from the boundary's logs: how long a service's success ratio and latency take to read.

Run as ``python -m bench.slis [--days 30] [--events-per-day 1000000]``. It writes an
archive of web and proxy events in a scratch folder (``--days`` days, each day one
batch, spread over ``--orgs`` organisations and ``--hosts`` server names, 0.5 % of
answers 5xx, a third of requests timed as Squid times them), then reads, as the
console and ``bastion uptime traffic`` do (``slis.host_traffic``):

* **national**: a service of 5 hosts over the whole period, every organisation;
* **member**: the same for one organisation's scope;
* **one day**: the national read over the last day only (the partition pruning).

Each read is run ``--repeats`` times; the median and the worst are reported.
Writes ``bench/results/slis.json``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from bastion.boundary.archive import write_batch
from bastion.core.scope import Scope
from bastion.slis import host_traffic
from bench._boundary.report import Load, write_document

RESULTS = Path(__file__).parent / "results" / "slis.json"
START = datetime(2026, 11, 1, tzinfo=UTC)


def day_of_events(day: int, n: int, orgs: int, hosts: int, seed: int) -> pl.DataFrame:
    """Return ``n`` web and proxy requests of day ``day`` (vectorised, no loop per event)."""
    rng = np.random.default_rng(seed + day)
    start = START + timedelta(days=day)
    offsets = np.sort(rng.integers(0, 86_400_000_000, n)).astype("timedelta64[us]")
    status = np.where(rng.random(n) < 0.005, 503, 200)
    timed = rng.random(n) < 1 / 3
    duration = np.where(timed, rng.lognormal(18.0, 0.8, n), np.nan)  # ns: about 66 ms median
    return pl.DataFrame(
        {
            "@timestamp": np.datetime64(start.replace(tzinfo=None), "us") + offsets,
            "organization.id": [f"O{c:04d}" for c in rng.integers(0, orgs, n)],
            "url.domain": [f"svc{h}.nhs.test" for h in rng.integers(0, hosts, n)],
            "http.response.status_code": status,
            "event.duration": duration,
        }
    ).with_columns(
        pl.col("@timestamp").dt.replace_time_zone("UTC"),
        pl.col("event.duration").cast(pl.Int64, strict=False),
    )


def timed(read: Any, repeats: int) -> tuple[float, float, int]:
    """Run ``read`` ``repeats`` times; return the median and worst seconds and its row count."""
    seconds, rows = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        days, _latency = read()
        seconds.append(time.perf_counter() - started)
        rows = int(days["requests"].sum())
    return statistics.median(seconds), max(seconds), rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--events-per-day", type=int, default=1_000_000)
    parser.add_argument("--orgs", type=int, default=200)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    load = Load()
    service = [f"svc{h}.nhs.test" for h in range(5)]
    end = START + timedelta(days=args.days)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "archive"
        started = time.perf_counter()
        for day in range(args.days):
            events = day_of_events(day, args.events_per_day, args.orgs, args.hosts, seed=7)
            write_batch(events, archive, f"slis-{day}")
        total = args.days * args.events_per_day
        print(
            f"archived {total:,} events over {args.days} days in {time.perf_counter() - started:.1f} s"
        )
        reads = {
            f"national, 5 hosts, {args.days} days": (START, end, Scope.everything()),
            f"member of one organisation, 5 hosts, {args.days} days": (START, end, Scope.of(["O0007"])),
            "national, 5 hosts, the last day": (end - timedelta(days=1), end, Scope.everything()),
        }  # fmt: skip
        for case, (since, until, scope) in reads.items():
            median, worst, rows = timed(
                lambda s=since, u=until, c=scope: host_traffic(archive, service, s, u, c),
                args.repeats,
            )
            print(f"{case:<55} median {median:6.3f} s  worst {worst:6.3f} s  ({rows:,} requests)")
            load.sample()
            scale = {"archived_events": total, "requests_counted": rows}
            results += [
                {"case": case, "metric": "median", "value": round(median, 3), "unit": "s", **scale},
                {"case": case, "metric": "worst", "value": round(worst, 3), "unit": "s"},
            ]
    write_document(
        args.results, results, load, "one process; the archive on local disk, read cold once"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
