"""Assurance benchmark: library load, status derivation of 41,000 returns, dashboard, publish.

Run as ``python -m bench.assure [--returns N]``. It builds a 40-outcome framework
(five statements an outcome, the CAF v4.0 rule), seeds N published returns with
random answers in one vectorised insert, then measures:

* loading a framework library (the real CAF v4.0 file: parse, validate, build);
* deriving every outcome status of all N returns (reading their answer marks from
  the database, then the matrix rules), and the derivation alone;
* the national dashboard computed afresh (its kept copy dropped first), in process, p50/p95;
* the national dashboard through the API (``GET /api/v1/assure/dashboard``), repeated: after
  the first, each request checks the store's fingerprint and answers from the kept copy;
* publishing one return through the service (derive, diff, version row, audit), p50/p95.

Writes ``bench/results/assure.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bastion.audit import Actor
from bench._soc import load_average, measure, percentiles, sign_in, timed_get, write_results

RESULTS = Path(__file__).parent / "results" / "assure.json"
CAF = Path(__file__).parents[1] / ".." / "shared" / "data" / "assurance" / "ncsc-caf-v4.0.yaml"
ACTOR = Actor.cli("bench")
CATEGORIES = ("achieved", "achieved", "partially-achieved", "not-achieved", "not-achieved")


def _library() -> dict[str, Any]:
    """A 40-outcome framework: 4 objectives x 10 outcomes, five statements each, CAF v4.0's rule."""
    objectives = [
        {"id": f"O{o}", "title": f"Objective {o}", "principles": [{"id": f"O{o}P", "title": "Principle", "outcomes": [
            {"id": f"O{o}.{n}", "title": f"Outcome {o}.{n}", "profile": {"baseline": "Achieved"},
             "statements": [{"id": f"O{o}.{n}.{s}", "text": f"Statement {s}", "category": c}
                            for s, c in enumerate(CATEGORIES)]}
            for n in range(10)]}]}
        for o in range(4)
    ]  # fmt: skip
    steps = [
        {"when": [{"category": "not-achieved", "quantifier": "any"}], "status": "Not achieved"},
        {"when": [{"category": "achieved", "quantifier": "all"}], "status": "Achieved"},
        {
            "when": [{"category": "partially-achieved", "quantifier": "all"}],
            "status": "Partially achieved",
        },
    ]
    return {
        "format": "bastion-framework/1", "key": "bench-caf", "version": "1", "title": "Bench 40 outcomes",
        "kind": "caf", "statuses": ["Achieved", "Partially achieved", "Not achieved"],
        "outcome_rule": {"kind": "ordered", "steps": steps, "otherwise": "Not achieved"},
        "objectives": objectives,
    }  # fmt: skip


def _seed(store: Any, framework: Any, count: int) -> float:
    """Insert ``count`` published returns with random answers; return the seconds it took."""
    from sqlalchemy import insert

    from bastion.assure import marks_matrix, outcome_codes
    from bastion.assure.models import ReturnRow

    rng = np.random.default_rng(19)
    width = len(framework.statements)
    # Mostly met achieved statements, rarely a not-achieved one: realistic spread of statuses.
    met = rng.random((count, width)) < np.tile([0.9, 0.9, 0.5, 0.03, 0.03], width // 5)
    marks = np.where(met, ord("1"), ord("0")).astype(np.uint8)
    rows_marks = [bytes(r).decode("ascii") for r in marks]
    codes = outcome_codes(framework, marks_matrix(framework, rows_marks)) + ord("0")
    outcome_marks = [bytes(r.astype(np.uint8)).decode("ascii") for r in codes]
    regions = [f"Y{56 + i}" for i in range(7)]
    types = ["gp_practice"] * 7 + ["care_provider"] * 2 + ["trust"]
    now = datetime.now(UTC)
    rows = [
        {"org_code": f"B{i:06d}", "period": "2024-25", "framework": framework.ref,
         "org_type": types[i % 10], "region": regions[i % 7], "icb": f"ICB {i % 42}", "profile": "baseline",
         "state": "published", "marks": rows_marks[i], "comments": {}, "evidence": {}, "owners": {},
         "facts": {}, "version": 1, "status": None, "outcome_marks": outcome_marks[i],
         "published_at": now, "deadline": date(2025, 6, 30), "source": "demo", "drift": [], "drift_count": 0, "published_late": False,
         "created_at": now, "updated_at": now}
        for i in range(count)
    ]  # fmt: skip
    started = time.perf_counter()
    with store.session() as session:
        for start in range(0, count, 5000):
            session.execute(insert(ReturnRow), rows[start : start + 5000])
    return time.perf_counter() - started


def _derive_all(store: Any, framework: Any) -> tuple[float, float, int]:
    from sqlalchemy import select

    from bastion.assure import marks_matrix, outcome_codes
    from bastion.assure.models import ReturnRow

    started = time.perf_counter()
    with store.session() as session:
        marks = list(
            session.scalars(select(ReturnRow.marks).where(ReturnRow.framework == framework.ref))
        )
    matrix = marks_matrix(framework, marks)
    derive_started = time.perf_counter()
    codes = outcome_codes(framework, matrix)
    done = time.perf_counter()
    return done - started, done - derive_started, int(codes.size)


def run(count: int, requests: int) -> list[dict[str, Any]]:
    from bastion import assure, orgs
    from bastion.assure.library import framework_from
    from bastion.core.scope import Scope
    from bastion.core.settings import Settings
    from bastion.store import Store, upgrade
    from bastion.web import create_app

    results: list[dict[str, Any]] = []
    loads = measure(lambda: assure.read_library(CAF), 5)
    results += [{"case": "load the NCSC CAF v4.0 library (parse, validate, build)", "metric": m,
                 "value": round(v, 1), "unit": "ms"} for m, v in (("p50", sorted(loads)[2]), ("max", max(loads)))]  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="bastion-bench-assure-"))
    store = Store.from_url(f"sqlite:///{folder / 'bastion.db'}")
    upgrade(store.engine)
    framework = framework_from(_library(), "bench")
    with store.session() as session:
        assure.store_framework(session, framework, actor=ACTOR)
        for n in range(requests):
            orgs.save_organisation(session, orgs.Organisation(f"P{n:04d}", f"Trust {n}", orgs.OrgType.TRUST),
                                   actor=ACTOR)  # fmt: skip
    label = f"{count:,} published returns of a 40-outcome framework"
    seeded = _seed(store, framework, count)
    results.append(
        {
            "case": f"seed {label} (vectorised insert)",
            "metric": "time",
            "value": round(seeded, 2),
            "unit": "s",
        }
    )
    total, derive, statuses = _derive_all(store, framework)
    results.append({"case": f"derive every outcome status of {label}, read from the store", "metric": "time",
                    "value": round(total, 3), "unit": "s"})  # fmt: skip
    results.append({"case": f"derive {statuses:,} outcome statuses (matrix rules only)", "metric": "time",
                    "value": round(derive, 3), "unit": "s"})  # fmt: skip
    app = create_app(store, Settings(data_dir=folder), api_limit=(10**9, 60.0))
    analyst = sign_in(store, national=True)
    from bastion.assure import national

    def uncached() -> object:
        national._BOARDS.clear()  # measure the scans themselves, as after any change
        with store.session() as session:
            return assure.dashboard(session, Scope.everything(), "2024-25", framework.ref)

    results += percentiles(f"national dashboard computed afresh, no kept copy ({label}), in process",
                            measure(uncached, 20))  # fmt: skip
    path = f"/api/v1/assure/dashboard?framework={framework.ref}&period=2024-25"
    results += percentiles(f"GET /api/v1/assure/dashboard ({label}), national analyst, repeated "
                            "(the kept copy, checked by one aggregate query)",
                            asyncio.run(timed_get(app, analyst, [path] * requests)))  # fmt: skip
    everything = Scope.everything()
    opened = []
    with store.session() as session:
        for n in range(requests):
            made = assure.open_return(
                session, f"P{n:04d}", "2024-25", framework.ref, actor=ACTOR, scope=everything
            )
            assure.update_return(session, made.id, actor=ACTOR, scope=everything,
                                 answers={s.id: s.category == "achieved" for s in framework.statements})  # fmt: skip
            opened.append(made.id)
    ids = iter(opened)
    with store.session() as session:
        results += percentiles(
            f"publish one return through the service (derive, diff, version, audit) beside {label}",
            measure(
                lambda: assure.publish(session, next(ids), actor=ACTOR, scope=everything), requests
            ),
        )
    store.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.assure", description=__doc__)
    parser.add_argument("--returns", type=int, default=41_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    loads = [load_average()]
    results = run(args.returns, args.requests)
    loads.append(load_average())
    write_results(args.results, results, loads)


if __name__ == "__main__":
    main()
