"""Cases benchmark: a case page and the case list through the API, over many stored cases.

Run as ``python -m bench.cases`` (default 100,000 cases and 1,000,000 alerts with
their triage history over 1,000 organisations, on SQLite and on PostgreSQL at
127.0.0.1:5432 when it answers; ``--cases 2000 --alerts 20000`` for a quick run).
Everything is loaded in bulk (``bench._soc``: executemany, COPY): the service
would take an hour to open 100,000 cases one by one. Each case has one
organisation, three tasks, an observable and five timeline entries, and a tenth
are closed. Figures: p50/p95 latency of ``GET /api/v1/cases/{id}`` (target:
under 100 ms p95) for a national analyst and a member, of the first page of
``GET /api/v1/cases``, of the MTTA/MTTR statistics over a year (cases and alerts;
target: under 2 s), and of opening one case through the service. Requests run in
one process, one at a time, through the ASGI app; the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bastion.alerts import response_metrics
from bastion.audit import Actor
from bench._soc import (
    load_average,
    measure,
    percentiles,
    seed_cases,
    seeded_store,
    sign_in,
    timed_get,
    write_results,
)

RESULTS = Path(__file__).parent / "results" / "cases.json"


def run(
    backend: str, cases_count: int, alerts: int, organisations: int, requests: int
) -> list[dict[str, Any]]:
    """Seed one backend and measure it; nothing when the backend is absent."""
    from bastion import cases
    from bastion.core.scope import Scope
    from bastion.core.settings import Settings
    from bastion.web import create_app

    with seeded_store(backend, "cases", organisations, alerts, history=True) as ready:
        if ready is None:
            return []
        store, codes, end, seeded_alerts = ready.store, ready.codes, ready.end, ready.seconds
        started = time.perf_counter()
        seed_cases(store, cases_count, codes)
        seeded = time.perf_counter() - started
        year_ago = end - timedelta(days=365)
        with store.session() as session:  # the daily roll-up, once after the bulk load
            started = time.perf_counter()
            response_metrics(session, year_ago, end)
            rolled = time.perf_counter() - started
        app = create_app(store, Settings(), api_limit=(10**9, 60.0))
        analyst = sign_in(store, national=True)
        member = sign_in(store, national=False, org=codes[1])
        picker = random.Random(16)
        anywhere = [f"/api/v1/cases/{picker.randint(1, cases_count)}" for _ in range(requests)]
        own = [n for n in range(1, cases_count + 1) if n % organisations == 1]
        theirs = [f"/api/v1/cases/{picker.choice(own)}" for _ in range(requests)]
        label = f"{backend}, {cases_count:,} cases, {alerts:,} alerts, {organisations:,} orgs"
        results = [
            {"case": f"bulk load of the alerts and their history ({label})", "metric": "time",
             "value": round(seeded_alerts, 1), "unit": "s"},
            {"case": f"bulk load of the cases ({label})", "metric": "time",
             "value": round(seeded, 1), "unit": "s"},
            {"case": f"daily roll-up of a year of alerts, once after the bulk load ({label})",
             "metric": "time", "value": round(rolled, 1), "unit": "s"},
        ]  # fmt: skip
        for name, signed, paths in (
            (f"GET /api/v1/cases/{{id}} ({label}), national analyst", analyst, anywhere),
            (f"GET /api/v1/cases/{{id}} ({label}), member lead", member, theirs),
            (f"GET /api/v1/cases?limit=50&open=true ({label}), national analyst", analyst,
             ["/api/v1/cases?limit=50&open=true"] * max(5, requests // 10)),
        ):  # fmt: skip
            page = percentiles(name, asyncio.run(timed_get(app, signed, paths)))
            page[1]["meets_target"] = page[1]["value"] < 100
            results += page
        for who, scope in (("national", Scope.everything()), ("one member", Scope.of([codes[1]]))):
            with store.session() as session:
                stats = percentiles(
                    f"MTTA/MTTR statistics over a year, cases and alerts ({label}), {who}",
                    measure(lambda s=scope: cases.case_stats(session, s, since=year_ago), 3),
                )
            stats[1]["meets_target"] = stats[1]["value"] < 2000
            results += stats
        with store.session() as session:
            draft = cases.CaseDraft("Bench case", (codes[0],), template="Phishing")
            results += percentiles(
                f"open one case from a template through the service ({label})",
                measure(
                    lambda: cases.create_case(
                        session, draft, actor=Actor.cli("bench"), scope=Scope.everything()
                    ),
                    max(5, requests // 10),
                ),
            )
        return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cases", description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--alerts", type=int, default=1_000_000)
    parser.add_argument("--organisations", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    loads = [load_average()]
    results: list[dict[str, Any]] = []
    for backend in ("sqlite", "postgresql"):
        if args.backend in (backend, "both"):
            results += run(backend, args.cases, args.alerts, args.organisations, args.requests)
            loads.append(load_average())
    write_results(args.results, results, loads)


if __name__ == "__main__":
    main()
