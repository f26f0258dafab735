"""What the SOC benchmarks (``bench.alerts``, ``bench.cases``) share.

A fresh store on SQLite or PostgreSQL (127.0.0.1:5432, trust authentication; the
case is left out when no server answers), organisations and a million alerts
loaded in bulk (a DB-API ``executemany`` on SQLite, ``COPY`` on PostgreSQL, the
table's indexes built after the load: never an ORM object per row), people signed in, latency percentiles
of API requests sent one at a time through the ASGI app, and the results file
with the machine and its load average.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bastion.audit import Actor
from bastion.store import Store, upgrade
from bastion.store.bulk import insert_rows
from bench._boundary.report import Load, write_document

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CHUNK = 50_000
CASE_CHUNK = 5_000  # a case is ten rows in five tables
SEVERITIES = ("low", "medium", "high", "critical")
STATES = ("new", "acknowledged", "in_progress", "closed")
FAMILIES = ("builtin:port-scan", "builtin:log4shell-probe", "builtin:exfiltration", "sigma:ps")


@contextmanager
def fresh_store(backend: str, name: str) -> Iterator[Store | None]:
    """Yield a migrated empty store on ``backend`` (``sqlite`` or ``postgresql``), or None.

    None: no PostgreSQL server answers at 127.0.0.1:5432. The store is removed after.
    """
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix=f"bastion-bench-{name}-"))
        store = Store.from_url(f"sqlite:///{folder / 'bastion.db'}")
        try:
            upgrade(store.engine)
            yield store
        finally:
            store.dispose()
            shutil.rmtree(folder, ignore_errors=True)
        return
    database = f"bastion_bench_{name}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {database}"))
            conn.execute(text(f"CREATE DATABASE {database}"))
    except OperationalError:
        yield None
        return
    store = Store.from_url(POSTGRES.rsplit("/", 1)[0] + f"/{database}")
    try:
        upgrade(store.engine)
        yield store
    finally:
        store.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {database}"))
        admin.dispose()


@dataclass(frozen=True)
class Seeded:
    """A fresh store with ``codes`` organisations and alerts up to ``end``, loaded in ``seconds``."""

    store: Store
    codes: list[str]
    end: datetime
    seconds: float


@contextmanager
def seeded_store(
    backend: str, name: str, organisations: int, alerts: int, *, history: bool = False
) -> Iterator[Seeded | None]:
    """Yield a fresh store of ``backend`` seeded with organisations and alerts (see
    ``seed_alerts``), or None, said on stdout, when the backend has no server."""
    with fresh_store(backend, name) as store:
        if store is None:
            print(f"{backend}: no server at 127.0.0.1:5432, left out")
            yield None
            return
        codes = seed_organisations(store, organisations)
        end = datetime.now(UTC).replace(microsecond=0)
        seconds = seed_alerts(store, alerts, codes, end, history=history)
        yield Seeded(store, codes, end, seconds)


def seed_organisations(store: Store, count: int, *, trusts_every: int = 1) -> list[str]:
    """Save ``count`` organisations ``B00000``…; return their codes.

    Every ``trusts_every``-th is a trust, the others GP practices (the federation's
    shape: a few hundred trusts, tens of thousands of practices).
    """
    from bastion import orgs

    codes = [f"B{i:05d}" for i in range(count)]
    kinds = {True: ("Trust", orgs.OrgType.TRUST), False: ("Practice", orgs.OrgType.GP_PRACTICE)}
    made = []
    for i, code in enumerate(codes):
        label, kind = kinds[i % trusts_every == 0]
        made.append(orgs.Organisation(code, f"{label} {code}", kind))
    with store.session() as session:
        orgs.save_organisations(session, made, actor=Actor.cli("bench"), source="bench")
    return codes


def alert_rows(
    first: int, count: int, total: int, codes: list[str], end: datetime, *, base: int = 0
) -> list[dict[str, Any]]:
    """Return alert rows ``first``… of ``total`` spread over the year to ``end``, most closed.

    Deterministic: row ``i`` depends on ``i`` only, and its id is ``base + i`` (``base``:
    the largest id already stored). An organisation's alerts are every
    ``len(codes)``-th; four in five are closed; severities low 40 %, medium 30 %,
    high 20 %, critical 10 %; a fifth got through (live); alerts come in groups of three.
    """
    ids = np.arange(first, first + count, dtype=np.int64)
    mix = (ids * 2_654_435_761) % 1_000_003  # a cheap deterministic scramble
    start = end - timedelta(days=365)
    offsets = (ids * (365 * 86_400) // total).astype(np.int64)
    severity = np.searchsorted([40, 70, 90], mix % 100, side="right")
    state = np.where(mix % 5 == 0, mix % 3, 3)
    rows = []
    for i, m, off, sev, st in zip(
        ids.tolist(), mix.tolist(), offsets.tolist(), severity.tolist(), state.tolist(), strict=True
    ):
        last = start + timedelta(seconds=off)
        family = FAMILIES[m % 4]
        observable = f"198.51.{(i // 3) % 256}.{(i // 768) % 256}"
        rows.append({
            "id": base + i, "org_code": codes[i % len(codes)], "host": f"10.{i % 200}.0.{i % 250}",
            "kind": "rule", "key": f"{family}:{observable}", "title": f"{family} from {observable}",
            "severity": SEVERITIES[sev], "verdict": "live" if m % 5 == 1 else "blocked",
            "retrospective": False, "indicator_type": None, "indicator_value": None,
            "indicator_source": None, "indicator_threat": None, "count": 1 + m % 50,
            "first_seen": last - timedelta(minutes=m % 60), "last_seen": last, "evidence": [],
            "created_at": last, "updated_at": last, "state": STATES[st],
            "resolution": "benign" if st == 3 else None,
            "assignee": f"analyst{m % 7}" if st == 2 else None, "group_id": base + i - (i - 1) % 3,
            "acknowledged_at": last + timedelta(minutes=1 + i % 120) if st else None,
            "closed_at": last + timedelta(minutes=1 + i % 120) if st == 3 else None,
            "observable": observable, "source": None, "source_ref": None,
        })  # fmt: skip
    return rows


def largest_id(store: Store, table: str) -> int:
    """Return the largest ``id`` stored in ``table`` (0 when it is empty)."""
    with store.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar_one())


def bulk_insert(store: Store, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``table`` in one transaction: COPY on PostgreSQL, one DB-API
    executemany on SQLite (``bastion.store.bulk``)."""
    with store.engine.begin() as connection:
        insert_rows(connection, table, rows)


@contextmanager
def indexes_dropped(store: Store, table: Any) -> Iterator[None]:
    """Drop ``table``'s indexes for a bulk load and build them again after it."""
    with store.engine.begin() as conn:
        for index in table.indexes:
            index.drop(conn)
    yield
    with store.engine.begin() as conn:
        for index in sorted(table.indexes, key=lambda i: i.name):
            index.create(conn)


def after_bulk_load(store: Store, tables: list[str]) -> None:
    """Refresh the planner's statistics and move id sequences past the loaded ids; on
    PostgreSQL vacuum too, as autovacuum does after a large insert (an index-only scan
    needs the visibility map it writes: without it, counting a filter's first 10,000
    matches read the table)."""
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM"))
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
            for table in tables:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
                )
        else:
            conn.execute(text("ANALYZE"))
        conn.commit()


def history_rows(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the triage history of ``alerts``: each alert no longer new left ``new`` once,
    between a minute and two hours after it was created."""
    return [
        {"alert_id": a["id"], "at": a["acknowledged_at"],
         "actor": "cli:bench", "field": "state", "before": "new", "after": a["state"],
         "reason": None}
        for a in alerts
        if a["state"] != "new"
    ]  # fmt: skip


def seed_alerts(
    store: Store, count: int, codes: list[str], end: datetime, *, history: bool = False
) -> float:
    """Load ``count`` alerts spread over the year before ``end`` (and their triage history),
    after any already stored; return the seconds taken."""
    from bastion.alerts.models import AlertHistoryRow, AlertRow

    started = time.perf_counter()
    base = largest_id(store, "alerts")
    with (
        indexes_dropped(store, AlertRow.__table__),
        indexes_dropped(store, AlertHistoryRow.__table__),
    ):
        for first in range(1, count + 1, CHUNK):
            rows = alert_rows(first, min(CHUNK, count + 1 - first), count, codes, end, base=base)
            bulk_insert(store, AlertRow.__table__, rows)
            if history:
                bulk_insert(store, AlertHistoryRow.__table__, history_rows(rows))
    after_bulk_load(store, ["alerts"])
    return time.perf_counter() - started


def case_rows(
    first: int, count: int, codes: list[str], start: datetime, *, base: int = 0
) -> dict[str, list[dict[str, Any]]]:
    """Return the rows of cases ``first``…``first + count - 1``, table by table.

    Each case has one organisation, three tasks, an observable and five timeline
    entries; a tenth are closed; case ``n`` (id ``base + n``) opened ``5 n`` minutes
    after ``start``.
    """
    tables: dict[str, list[dict[str, Any]]] = {
        n: [] for n in ("cases", "case_orgs", "case_tasks", "case_timeline", "case_observables")
    }
    for n in range(first, first + count):
        case_id, opened, closed = base + n, start + timedelta(minutes=5 * n), n % 10 == 0
        tables["cases"].append({
            "id": case_id, "title": f"Bench case {case_id}", "description": "", "owner": None,
            "severity": SEVERITIES[n % 4], "tlp": "AMBER",
            "pap": "AMBER", "status": "closed" if closed else "triage", "tags": [],
            "techniques": ["T1071"], "patient_impact": "none", "clinical_systems": [],
            "downtime_since": None, "personal_data": n % 3 == 0, "aware_at": opened,
            "breach_reported_at": None, "sector_reported_at": None, "created_at": opened,
            "updated_at": opened, "acknowledged_at": opened + timedelta(minutes=30),
            "closed_at": opened + timedelta(hours=6) if closed else None,
            "resolution": "benign" if closed else "", "merged_into": None,
        })  # fmt: skip
        tables["case_orgs"].append({"case_id": case_id, "org_code": codes[n % len(codes)]})
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
            {"case_id": case_id, "kind": "domain", "value": f"c{n % 5000}.bad.example",
             "tlp": "AMBER", "note": ""}
        )  # fmt: skip
    return tables


def seed_cases(store: Store, cases: int, codes: list[str]) -> float:
    """Load ``cases`` cases opened over the last ``5 cases`` minutes, after any already
    stored, case ``n`` at organisation ``codes[n % len(codes)]``; return the seconds taken."""
    from bastion.cases import models, recount_all

    started = time.perf_counter()
    base = largest_id(store, "cases")
    tables = {t.__tablename__: t.__table__ for t in (
        models.CaseRow, models.CaseOrgRow, models.TaskRow, models.TimelineRow, models.ObservableRow
    )}  # fmt: skip
    start = datetime.now(UTC) - timedelta(minutes=5 * cases + 60)
    for first in range(1, cases + 1, CASE_CHUNK):
        rows = case_rows(first, min(CASE_CHUNK, cases + 1 - first), codes, start, base=base)
        for name, batch in rows.items():
            bulk_insert(store, tables[name], batch)
    with store.session() as session:  # each observable's spread, as the service keeps it
        recount_all(session)
    after_bulk_load(store, ["cases"])
    return time.perf_counter() - started


@dataclass(frozen=True)
class Signed:
    """A signed-in person's session cookie and CSRF token."""

    cookie: str
    csrf: str


def sign_in(store: Store, national: bool, org: str | None = None, *, admin: bool = False) -> Signed:
    """Create and sign in a national analyst (administrator: ``admin``), or the lead of ``org``."""
    from bastion.auth import Role
    from bastion.auth import users as auth_users
    from bastion.web.testing import FAST_HASHER, create_person, open_session

    production, auth_users.HASHER = auth_users.HASHER, FAST_HASHER
    try:
        if national:
            role = Role.NATIONAL_ADMIN if admin else Role.NATIONAL_ANALYST
            person = create_person(store, role.value.replace("_", ""), role)
        else:
            assert org is not None
            person = create_person(store, f"lead{org.lower()}", None, ((org, Role.ORG_LEAD),))
        return Signed(*open_session(store, person))
    finally:
        auth_users.HASHER = production


def percentiles(name: str, samples: list[float], **extra: Any) -> list[dict[str, Any]]:
    """Return the p50 and p95 rows of ``samples`` (milliseconds)."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return [
        {"case": name, "metric": "p50", "value": round(statistics.median(ordered), 1),
         "unit": "ms", **extra},
        {"case": name, "metric": "p95", "value": round(p95, 1), "unit": "ms", **extra},
    ]  # fmt: skip


async def timed_get(app: Any, signed: Signed, paths: list[str]) -> list[float]:
    """Send GET ``paths`` one at a time (after one warm-up); return each latency in ms."""
    from bastion.web.testing import signed_in_client

    samples = []
    async with signed_in_client(app, signed.cookie, signed.csrf) as client:
        assert (await client.get(paths[0])).status_code == 200
        for path in paths:
            started = time.perf_counter()
            answer = await client.get(path)
            samples.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, answer.text[:300]
    return samples


def measure(call: Callable[[], object], rounds: int) -> list[float]:
    """Run ``call`` ``rounds`` times; return each duration in ms."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def write_results(
    path: Path, results: list[dict[str, Any]], loads: list[float], **extra: Any
) -> None:
    """Print ``results`` and write them with the machine, its load over the run (``loads``,
    sampled by the caller, and one more now), the date and ``extra`` to ``path``."""
    for r in results:
        print(f"{r['case']:<100} {r['metric']:>5} {r['value']:>9} {r['unit']}")
    load = Load()
    load.samples = [*loads, *load.samples]
    write_document(path, results, load, **extra)


def load_average() -> float:
    """Return the one-minute load average."""
    return os.getloadavg()[0]
