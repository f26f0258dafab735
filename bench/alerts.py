"""Alerts benchmark: the alert queue over a million stored alerts, and grouping new ones.

Run as ``python -m bench.alerts`` (default 1,000,000 alerts over 1,000
organisations on SQLite and on PostgreSQL at 127.0.0.1:5432 when it answers;
``--alerts 50000`` for a quick run). The alerts are loaded in bulk (see
``bench._soc``): a year of them, four in five closed. Figures:

* p50/p95 latency of the queue's first page, ``GET /api/v1/alerts?limit=50`` with
  the filters an analyst uses (target: under 100 ms p95), for a national analyst
  and for one member's lead, requests one at a time through the ASGI app;
* ``record_alerts`` of 100,000 candidate events that open 100,000 new alerts, a
  third of them touching stored groups (target: grouped in under 10 s), and the
  grouping step alone.

Prints and writes ``bench/results/alerts.json``; the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import text

from bastion.core.events import TIMESTAMP
from bastion.store import Store
from bench._soc import (
    load_average,
    percentiles,
    seeded_store,
    sign_in,
    timed_get,
    write_results,
)

RESULTS = Path(__file__).parent / "results" / "alerts.json"

# The queue's first page as analysts filter it (a member's lead sees its own alerts only).
QUEUES = (
    ("open queue", "state=new"),
    ("live critical, new", "state=new&severity=critical&verdict=live"),
    ("in progress", "state=in_progress"),
    ("everything", ""),
    ("one organisation, new", "org={org}&state=new"),
    ("blocked high, acknowledged", "state=acknowledged&severity=high&verdict=blocked"),
)


def candidates(count: int, stored: int, codes: list[str], end: datetime) -> pl.DataFrame:
    """Return ``count`` candidate events of ``count`` new alerts, some joining stored groups.

    Each has its own key; every third names the organisation, host and observable
    of one of the 300 most recently stored alerts (those that are open join its group).
    """
    recent = [stored - i % 300 if i % 3 == 0 else i for i in range(count)]
    return pl.DataFrame({
        "organization.id": [codes[j % len(codes)] for j in recent],
        "host.ip": [f"10.{j % 200}.0.{j % 250}" if i % 3 == 0
                    else f"172.16.{i // 250 % 256}.{i % 250}" for i, j in enumerate(recent)],
        "@timestamp": [end + timedelta(seconds=i % 600) for i in range(count)],
        "kind": "rule",
        "key": [f"builtin:port-scan:new-{i}" for i in range(count)],
        "title": "port scan",
        "severity": "high",
        "blocked": [i % 4 != 0 for i in range(count)],
        "observable": [f"198.51.{(j // 3) % 256}.{(j // 768) % 256}" if i % 3 == 0
                       else f"203.0.{i // 256 % 256}.{i % 256}" for i, j in enumerate(recent)],
    }, schema_overrides={"@timestamp": TIMESTAMP})  # fmt: skip


def grouping(
    store: Store, count: int, stored: int, codes: list[str], end: datetime
) -> list[dict[str, Any]]:
    """Time ``record_alerts`` of ``count`` new alerts, and its grouping step alone."""
    from bastion.alerts import record_alerts
    from bastion.alerts import store as store_module

    frame = candidates(count, stored, codes, end)
    spent: list[float] = []
    original = store_module.plan_groups

    def timed(call: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - started)

        return wrapper

    store_module.plan_groups = timed(original)
    try:
        with store.session() as session:
            started, cpu = time.perf_counter(), time.process_time()
            stats = record_alerts(session, frame, now=end + timedelta(minutes=10))
            total, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        store_module.plan_groups = original
    with store.session() as session:
        joined = session.scalar(
            text("SELECT COUNT(*) FROM alerts WHERE id > :n AND group_id <= :n"), {"n": stored}
        )
    assert stats.created == count, stats
    label = f"{count:,} new alerts ({joined:,} joined stored groups)"
    return [
        {"case": f"record_alerts: {label}", "metric": "time", "value": round(total, 2),
         "unit": "s", "cpu_s": round(cpu, 2), "target_s": 10, "meets_target": total < 10},
        {"case": f"grouping step alone (planning the groups): {label}", "metric": "time", "value": round(sum(spent), 2),
         "unit": "s"},
    ]  # fmt: skip


def run_backend(
    backend: str, alerts: int, organisations: int, requests: int, new: int
) -> list[dict[str, Any]]:
    """Seed one backend and measure it; nothing when the backend is absent."""
    from bastion.core.settings import Settings
    from bastion.web import create_app

    with seeded_store(backend, "alerts", organisations, alerts) as ready:
        if ready is None:
            return []
        store, codes, end, seeded = ready.store, ready.codes, ready.end, ready.seconds
        label = f"{backend}, {alerts:,} alerts, {organisations:,} organisations"
        print(f"{label}: loaded in {seeded:.1f} s")
        results = [{"case": f"bulk load ({label})", "metric": "time", "value": round(seeded, 1),
                    "unit": "s"}]  # fmt: skip
        app = create_app(store, Settings(), api_limit=(10**9, 60.0))
        analyst = sign_in(store, national=True)
        lead = sign_in(store, national=False, org=codes[1])
        for name, query in QUEUES:
            path = f"/api/v1/alerts?limit=50&{query.format(org=codes[1])}".rstrip("&")
            for who, signed in (("national analyst", analyst), ("member lead", lead)):
                if who == "member lead" and "org=" in query:
                    continue
                samples = asyncio.run(timed_get(app, signed, [path] * requests))
                p = percentiles(f"queue first page: {name} ({label}), {who}", samples, path=path)
                p[1]["meets_target"] = p[1]["value"] < 100
                results += p
        results += grouping(store, new, alerts, codes, end)
        return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.alerts", description=__doc__)
    parser.add_argument("--alerts", type=int, default=1_000_000)
    parser.add_argument("--organisations", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--new", type=int, default=100_000, help="new alerts to group")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    loads = [load_average()]
    results: list[dict[str, Any]] = []
    for backend in ("sqlite", "postgresql"):
        if args.backend in (backend, "both"):
            results += run_backend(
                backend, args.alerts, args.organisations, args.requests, args.new
            )
            loads.append(load_average())
    write_results(args.results, results, loads)


if __name__ == "__main__":
    main()
