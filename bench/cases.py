"""Cases benchmark: a case page and the case list through the API, over many stored cases.

Run as ``python -m bench.cases`` (default 100,000 cases over 1,000 organisations on
SQLite; ``--cases 2000`` for a quick run). The cases are written straight into
their tables (the service would take an hour to open 100,000 one by one); each
has one organisation, three tasks, an observable and five timeline entries, and
a tenth are closed. Figures: p50/p95 latency of ``GET /api/v1/cases/{id}`` (the
target is under 100 ms p95) for a national analyst and a member, of the first
page of ``GET /api/v1/cases``, of the MTTA/MTTR statistics over a year, and of
opening one case through the service. Requests run in one process, one at a
time, through the ASGI app; the machine is shared with other work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bastion.audit import Actor
from bench._boundary.report import machine

RESULTS = Path(__file__).parent / "results" / "cases.json"
CHUNK = 5_000


def _rows(
    first: int, count: int, codes: list[str], start: datetime
) -> dict[str, list[dict[str, Any]]]:
    """Return the rows of cases ``first``…``first + count - 1``, table by table."""
    tables: dict[str, list[dict[str, Any]]] = {
        n: [] for n in ("cases", "case_orgs", "case_tasks", "case_timeline", "case_observables")
    }
    for case_id in range(first, first + count):
        opened = start + timedelta(minutes=5 * case_id)
        closed = case_id % 10 == 0
        tables["cases"].append({
            "id": case_id, "title": f"Bench case {case_id}", "description": "", "owner": None,
            "severity": ("low", "medium", "high", "critical")[case_id % 4], "tlp": "AMBER",
            "pap": "AMBER", "status": "closed" if closed else "triage", "tags": [],
            "techniques": ["T1071"], "patient_impact": "none", "clinical_systems": [],
            "downtime_since": None, "personal_data": case_id % 3 == 0, "aware_at": opened,
            "breach_reported_at": None, "sector_reported_at": None, "created_at": opened,
            "updated_at": opened, "acknowledged_at": opened + timedelta(minutes=30),
            "closed_at": opened + timedelta(hours=6) if closed else None,
            "resolution": "benign" if closed else "", "merged_into": None,
        })  # fmt: skip
        tables["case_orgs"].append({"case_id": case_id, "org_code": codes[case_id % len(codes)]})
        tables["case_tasks"] += [
            {"case_id": case_id, "title": f"Task {t}", "status": "todo", "assignee": None}
            for t in range(3)
        ]
        tables["case_timeline"] += [
            {"case_id": case_id, "at": opened + timedelta(minutes=t), "kind": "note",
             "actor": "cli:bench", "text": f"note {t}", "data": None}
            for t in range(5)
        ]  # fmt: skip
        tables["case_observables"].append(
            {"case_id": case_id, "kind": "domain", "value": f"c{case_id % 5000}.bad.example",
             "tlp": "AMBER", "note": ""}
        )  # fmt: skip
    return tables


def _seed(store: Any, cases: int, organisations: int) -> list[str]:
    from sqlalchemy import insert

    from bastion import orgs
    from bastion.cases import models

    codes = [f"B{i:05d}" for i in range(organisations)]
    with store.session() as session:
        orgs.save_organisations(
            session,
            [orgs.Organisation(c, f"Trust {c}", orgs.OrgType.TRUST) for c in codes],
            actor=Actor.cli("bench"),
            source="bench",
        )
    tables = {t.__tablename__: t for t in (
        models.CaseRow, models.CaseOrgRow, models.TaskRow, models.TimelineRow, models.ObservableRow
    )}  # fmt: skip
    start = datetime.now(UTC) - timedelta(minutes=5 * cases + 60)
    for first in range(1, cases + 1, CHUNK):
        rows = _rows(first, min(CHUNK, cases + 1 - first), codes, start)
        with store.session() as session:
            for name, batch in rows.items():
                session.execute(insert(tables[name]), batch)
    return codes


def _percentiles(name: str, samples: list[float]) -> list[dict[str, Any]]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return [
        {
            "case": name,
            "metric": "p50",
            "value": round(statistics.median(ordered), 1),
            "unit": "ms",
        },
        {"case": name, "metric": "p95", "value": round(p95, 1), "unit": "ms"},
    ]


async def _timed(app: Any, cookie: str, csrf: str, paths: list[str]) -> list[float]:
    from bastion.web.testing import signed_in_client

    samples = []
    async with signed_in_client(app, cookie, csrf) as client:
        assert (await client.get(paths[0])).status_code == 200
        for path in paths:
            started = time.perf_counter()
            answer = await client.get(path)
            samples.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, answer.text[:300]
    return samples


def _measure(call: Callable[[], object], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def run(cases_count: int, organisations: int, requests: int) -> list[dict[str, Any]]:
    from bastion import cases
    from bastion.auth import Role
    from bastion.auth import users as auth_users
    from bastion.core.scope import Scope
    from bastion.core.settings import Settings
    from bastion.store import Store, upgrade
    from bastion.web import create_app
    from bastion.web.testing import FAST_HASHER, create_person, open_session

    folder = Path(tempfile.mkdtemp(prefix="bastion-bench-cases-"))
    store = Store.from_url(f"sqlite:///{folder / 'bastion.db'}")
    upgrade(store.engine)
    started = time.perf_counter()
    codes = _seed(store, cases_count, organisations)
    seeded = time.perf_counter() - started
    app = create_app(store, Settings(data_dir=folder), api_limit=(10**9, 60.0))
    production, auth_users.HASHER = auth_users.HASHER, FAST_HASHER
    try:
        analyst = open_session(store, create_person(store, "analyst", Role.NATIONAL_ANALYST))
        member = open_session(
            store, create_person(store, "lead", None, ((codes[1], Role.ORG_LEAD),))
        )
    finally:
        auth_users.HASHER = production
    picker = random.Random(16)
    anywhere = [f"/api/v1/cases/{picker.randint(1, cases_count)}" for _ in range(requests)]
    own = [n for n in range(1, cases_count + 1) if n % organisations == 1]
    theirs = [f"/api/v1/cases/{picker.choice(own)}" for _ in range(requests)]
    label = f"{cases_count:,} cases, {organisations:,} organisations"
    results = [{"case": f"seed {label}", "metric": "time", "value": round(seeded, 1), "unit": "s"}]
    results += _percentiles(
        f"GET /api/v1/cases/{{id}} ({label}), national analyst",
        asyncio.run(_timed(app, *analyst, anywhere)),
    )
    results += _percentiles(
        f"GET /api/v1/cases/{{id}} ({label}), member lead",
        asyncio.run(_timed(app, *member, theirs)),
    )
    results += _percentiles(
        f"GET /api/v1/cases?limit=50&open=true ({label}), national analyst",
        asyncio.run(
            _timed(app, *analyst, ["/api/v1/cases?limit=50&open=true"] * max(5, requests // 10))
        ),
    )
    year_ago = datetime.now(UTC) - timedelta(days=365)
    with store.session() as session:
        results += _percentiles(
            f"MTTA/MTTR statistics over a year ({label}), national",
            _measure(lambda: cases.case_stats(session, Scope.everything(), since=year_ago), 3),
        )
    with store.session() as session:
        draft = cases.CaseDraft("Bench case", (codes[0],), template="Phishing")
        results += _percentiles(
            f"open one case from a template through the service ({label})",
            _measure(
                lambda: cases.create_case(
                    session, draft, actor=Actor.cli("bench"), scope=Scope.everything()
                ),
                max(5, requests // 10),
            ),
        )
    store.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--organisations", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = run(args.cases, args.organisations, args.requests)
    for r in results:
        print(f"{r['case']:<90} {r['metric']:>5} {r['value']:>9} {r['unit']}")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": {
            **machine(),
            "note": "shared machine: other engineers' work ran on the same 2 cores",
        },
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "results": results,
    }
    args.results.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
