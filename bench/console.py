"""Console benchmark: every console page a national analyst and a member's lead open, at scale.

Run as ``python -m bench.console`` (default: the demo as ``bastion init --demo`` loads
it, then, in bulk, organisations up to 41,000 in all, 1,000,000 alerts over the year
and 100,000 cases, on SQLite; ``--backend postgresql`` or ``both`` for the server at
127.0.0.1:5432; ``--alerts 2000 --organisations 200 --cases 100`` for a quick run).
The bulk rows go in as ``bench._soc`` loads them (executemany, COPY, indexes built
after), never an ORM object a row. The national roll-ups of the alerts by last seen
(``bastion.alerts.summary``: the overview's fortnight and totals, the rules page's
week) start empty, as after the migrations that made them: a page's warm-up request
sums them from the alerts, as a store's first page does, and the measured requests
read them.

The pages are the console's GET routes, enumerated from the app, so a page added to
the console is measured without a change here. A path parameter is filled with an
object of the store the person may see (for the lead, one of its organisation's); a
page whose kind of object the store has none of, or that the role may not open, is
listed as left out. Each page is requested ``--requests`` times, one at a time, through
the ASGI app in this process, after one warm-up request. Figures: p50 and p95 latency
(target: p95 under 100 ms) and the CPU milliseconds a request took in this process
(less sensitive than wall time to the other work on a shared machine).

``--profile DIR`` runs each page's requests under cProfile, the app's threadpool run
inline so the profile sees the handlers, and writes ``DIR/<page> (<role>).prof``.
``--keep DIR`` (SQLite) seeds into DIR once, again only when the sizes differ, and
measures a copy of it each run; ``--pages /overview,/rules/{rule_id}`` measures only
those pages; ``--name NAME`` names the store (PostgreSQL: the database
``bastion_bench_NAME``, so that runs side by side do not drop each other's).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bastion.store import Store
from bench._soc import (
    Signed,
    fresh_store,
    load_average,
    percentiles,
    seed_alerts,
    seed_cases,
    seed_organisations,
    sign_in,
    write_results,
)

RESULTS = Path(__file__).parent / "results" / "console.json"
TARGET_MS = 100.0
# Who opens the pages; the administrator only those the national analyst may not.
ADMIN = "national administrator"
DEMO_SIZE = "small"  # the demo federation's; the bulk organisations make up the rest
# Console GET routes that are not pages a signed-in person browses.
NOT_PAGES = {
    "signin_page": "the sign-in form, before signing in",
    "totp_page": "the second-factor form, while signing in",
    "oidc_start": "a redirect to the identity provider",
    "oidc_callback": "the identity provider's redirect back",
    "audit_export": "a download of the audit trail, not a page",
}
# Pages measured again with the query an analyst adds (filters, a deep page).
VARIANTS = {
    "/alerts": ("state=new&severity=critical", "page=200"),
    "/": ("page=100",),
    "/cases": ("page=100",),
}
# An object for each path parameter: SQL over the store, the first for a national
# analyst, the second for the lead of organisation :org (None: the same as national).
OBJECTS: dict[str, tuple[str, str | None]] = {
    "alert_id": (
        "SELECT MAX(id) FROM alerts",
        "SELECT MAX(id) FROM alerts WHERE org_code = :org",
    ),
    "case_id": (
        "SELECT MAX(id) FROM cases",
        "SELECT MAX(case_id) FROM case_orgs WHERE org_code = :org",
    ),
    "code": ("SELECT MAX(code) FROM organisations", "SELECT :org"),
    "org": ("SELECT MAX(org_code) FROM assure_returns", "SELECT :org"),
    "ref": ("SELECT MAX(ref) FROM adv_alerts", None),
    "return_id": (
        "SELECT MAX(id) FROM assure_returns",
        "SELECT MAX(id) FROM assure_returns WHERE org_code = :org",
    ),
    "result_id": (
        "SELECT MAX(id) FROM behaviour_results",
        "SELECT MAX(id) FROM behaviour_results WHERE org_code = :org",
    ),
    "indicator_id": ("SELECT MAX(type || ':' || value) FROM indicators", None),
    "name": ("SELECT MIN(name) FROM intel_feeds", None),
    "finding_id": (
        "SELECT MAX(id) FROM scan_findings",
        "SELECT MAX(id) FROM scan_findings WHERE org_code = :org",
    ),
    "monitor_id": (
        "SELECT MIN(id) FROM uptime_monitors",
        "SELECT MIN(id) FROM uptime_monitors WHERE org_code = :org",
    ),
    "slo_id": (
        "SELECT MIN(id) FROM uptime_slos",
        "SELECT MIN(id) FROM uptime_slos WHERE org_code = :org",
    ),
    "audit_id": (
        "SELECT MAX(id) FROM password_audits",
        "SELECT MAX(id) FROM password_audits WHERE org_code = :org",
    ),
    "username": ("SELECT MIN(username) FROM auth_users", None),
    # A built-in check that raised alerts (a rule page lists its alerts).
    "rule_id": (
        "SELECT MAX(key) FROM alerts WHERE id = (SELECT MAX(id) FROM alerts "
        "WHERE key LIKE 'builtin:port-scan:%')",
        "SELECT MAX(key) FROM alerts WHERE id = (SELECT MAX(id) FROM alerts "
        "WHERE key LIKE 'builtin:port-scan:%' AND org_code = :org)",
    ),
}
PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")
UNSAFE = re.compile(r"[^\w(). =-]+")  # in a profile's file name


@dataclass(frozen=True)
class World:
    """The seeded store, its app, who signs in, and how long seeding took."""

    store: Store
    app: Any
    people: dict[str, tuple[Signed, str | None]]  # role: (session, organisation or national)
    label: str
    seconds: dict[str, float]


def console_pages(app: Any) -> tuple[list[str], dict[str, str]]:
    """Return the console's GET page paths (templates) and the GET routes left out, why."""
    from fastapi.routing import APIRoute, iter_route_contexts

    pages, left = [], {}
    for context in iter_route_contexts(app.routes):
        route = context.route
        if not isinstance(route, APIRoute) or "GET" not in (context.methods or set()):
            continue
        if not route.endpoint.__module__.startswith("bastion.web.console"):
            continue
        if route.name in NOT_PAGES:
            left[str(context.path)] = NOT_PAGES[route.name]
        else:
            pages.append(str(context.path))
    return pages, left


def fill(store: Store, template: str, org: str | None) -> str | None:
    """Return ``template`` with its path parameters filled for the lead of ``org`` (None:
    national), or None when the store has no such object."""
    from bastion.detect import builtin_rule_id

    path = template
    for name in PARAMETER.findall(template):
        national, member = OBJECTS[name]
        sql = national if org is None or member is None else member
        with store.engine.connect() as conn:
            value = conn.execute(text(sql), {"org": org} if ":org" in sql else {}).scalar()
        if value is not None and name == "rule_id":
            value = builtin_rule_id(str(value))
        if value is None:
            return None
        path = PARAMETER.sub(str(value), path, count=1)
    return path


def load_demo(store: Store, folder: Path, *, size: str | int, events: int) -> Any:
    """Load the demo into ``store`` as ``bastion init --demo`` does; return its settings."""
    from bastion.cli import advisories as advisories_cli
    from bastion.cli import demo as demo_cli
    from bastion.cli import users as users_cli
    from bastion.core.settings import Settings

    settings = Settings(data_dir=folder)
    settings.archive_dir.mkdir(parents=True, exist_ok=True)
    said = demo_cli.load_demo_once(store, settings, size=size, events=events)
    said += users_cli.demo_accounts_once(store, folder)
    said += advisories_cli.demo_advisory_once(store, users_cli.DEMO_LEAD, folder)
    said += demo_cli.demo_uptime_once(store, settings)
    for line in said:
        if "password" not in line.lower() and "secret" not in line.lower():
            print(f"  demo: {line}", flush=True)
    return settings


def lead_organisation(store: Store) -> str:
    """The demo lead's organisation (the one with the demo's national alert)."""
    from bastion.cli.users import DEMO_LEAD

    sql = (
        "SELECT m.org_code FROM auth_memberships m JOIN auth_users u ON u.id = m.user_id "
        "WHERE u.username = :name"
    )
    with store.engine.connect() as conn:
        return str(conn.execute(text(sql), {"name": DEMO_LEAD}).scalar_one())


def seed(
    store: Store, folder: Path, organisations: int, alerts: int, cases: int, demo_events: int
) -> tuple[Any, int, dict[str, float]]:
    """Load the demo and the bulk rows into ``store`` (files in ``folder``); return the
    settings, how many organisations there are in all and how long each load took."""
    seconds = {}
    started = time.perf_counter()
    settings = load_demo(store, folder, size=DEMO_SIZE, events=demo_events)
    seconds["demo"] = time.perf_counter() - started
    with store.engine.connect() as conn:
        stored = list(conn.execute(text("SELECT code FROM organisations")).scalars())
    started = time.perf_counter()
    codes = stored + seed_organisations(
        store, max(0, organisations - len(stored)), trusts_every=100
    )
    seconds["organisations"] = time.perf_counter() - started
    end = datetime.now(UTC).replace(microsecond=0)
    seconds["alerts"] = seed_alerts(store, alerts, codes, end, history=True)
    seconds["cases"] = seed_cases(store, cases, codes)
    return settings, len(codes), seconds


@contextmanager
def kept_store(
    keep: Path, organisations: int, alerts: int, cases: int, demo_events: int
) -> Iterator[tuple[Store, Any, int, dict[str, float]]]:
    """Yield a copy of the SQLite store seeded in ``keep`` (seeded there first unless it
    was, with these sizes), its settings, the organisations' count and the load times."""
    from bastion.core.settings import Settings
    from bastion.store import upgrade

    sizes = {"organisations": organisations, "alerts": alerts, "cases": cases,
             "demo_events": demo_events}  # fmt: skip
    marker = keep / "seeded.json"
    kept = json.loads(marker.read_text()) if marker.is_file() else {}
    if kept.get("sizes") != sizes:
        shutil.rmtree(keep, ignore_errors=True)
        keep.mkdir(parents=True)
        store = Store.from_url(f"sqlite:///{keep / 'bastion.db'}")
        try:
            upgrade(store.engine)
            _, count, seconds = seed(store, keep / "data", organisations, alerts, cases,
                                     demo_events)  # fmt: skip
        finally:
            store.dispose()
        kept = {"sizes": sizes, "organisations": count, "seconds": seconds}
        marker.write_text(json.dumps(kept))
    folder = Path(tempfile.mkdtemp(prefix="bastion-bench-console-"))
    try:
        shutil.copytree(keep, folder, dirs_exist_ok=True)  # the people signed in stay out
        store = Store.from_url(f"sqlite:///{folder / 'bastion.db'}")
        upgrade(store.engine)  # a store kept from an older schema takes the newer migrations
        try:
            yield store, Settings(data_dir=folder / "data"), kept["organisations"], kept["seconds"]
        finally:
            store.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def seeded_world(
    backend: str,
    organisations: int,
    alerts: int,
    cases: int,
    demo_events: int,
    keep: Path | None = None,
    name: str = "console",
) -> Iterator[World | None]:
    """Yield the demo plus the bulk organisations, alerts and cases on ``backend``, or None.

    ``keep`` (SQLite): seed into that folder once and measure a copy of it each run;
    ``name`` the store's (PostgreSQL: the database ``bastion_bench_<name>``)."""
    from bastion.web import create_app

    with ExitStack() as stack:
        if keep is not None and backend == "sqlite":
            store, settings, count, seconds = stack.enter_context(
                kept_store(keep, organisations, alerts, cases, demo_events)
            )
        else:
            fresh = stack.enter_context(fresh_store(backend, name))
            if fresh is None:
                print(f"{backend}: no server at 127.0.0.1:5432, left out")
                yield None
                return
            store = fresh
            folder = Path(tempfile.mkdtemp(prefix="bastion-bench-console-"))
            stack.callback(shutil.rmtree, folder, ignore_errors=True)
            settings, count, seconds = seed(
                store, folder, organisations, alerts, cases, demo_events
            )
        app = create_app(store, settings, api_limit=(10**9, 60.0))
        lead = lead_organisation(store)
        people = {
            "national analyst": (sign_in(store, national=True), None),
            "member lead": (sign_in(store, national=False, org=lead), lead),
            ADMIN: (sign_in(store, national=True, admin=True), None),
        }
        label = f"{backend}, {alerts:,} alerts, {count:,} organisations, {cases:,} cases"
        yield World(store, app, people, label, seconds)


@contextmanager
def threadpool_inline() -> Iterator[None]:
    """Run the app's sync handlers and dependencies in this thread (so cProfile sees them)."""
    import anyio.to_thread

    original = anyio.to_thread.run_sync

    async def inline(func: Callable[..., Any], *args: Any, **_: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]
    try:
        yield
    finally:
        anyio.to_thread.run_sync = original


async def timed_page(
    app: Any, signed: Signed, path: str, requests: int
) -> tuple[int, list[float], float]:
    """Request ``path`` once to warm, then ``requests`` times one at a time; return the
    warm-up's status, each latency (ms) and the CPU ms a request took in this process."""
    from bastion.web.testing import signed_in_client

    async with signed_in_client(app, signed.cookie, signed.csrf) as client:
        status = (await client.get(path)).status_code
        if status != 200:
            return status, [], 0.0
        samples = []
        cpu = time.process_time()
        for _ in range(requests):
            started = time.perf_counter()
            answer = await client.get(path)
            samples.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, f"{path}: {answer.status_code}"
        return status, samples, (time.process_time() - cpu) * 1000 / requests


def measure_pages(
    world: World, requests: int, profile: Path | None, only: set[str] | None = None
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Measure every console page (those in ``only``, if given) for every person; return
    the rows and what was left out."""
    templates, left = console_pages(world.app)
    if only is not None:
        templates = [t for t in templates if t in only]
    results: list[dict[str, Any]] = []
    forbidden: set[str] = set()  # to the national analyst
    for role, (signed, org) in world.people.items():
        for template in templates:
            if role == ADMIN and template not in forbidden:
                continue
            path = fill(world.store, template, org)
            if path is None:
                left[f"{template} ({role})"] = "no such object in the store"
                continue
            for query in ("", *VARIANTS.get(template, ())):
                name = f"GET {template}{'?' + query if query else ''} ({role})"
                url = f"{path}?{query}" if query else path
                profiler = cProfile.Profile() if profile else None
                with threadpool_inline() if profile else _nothing():
                    if profiler:
                        profiler.enable()
                    status, samples, cpu = asyncio.run(timed_page(world.app, signed, url, requests))
                    if profiler:
                        profiler.disable()
                if status != 200:
                    left[name] = f"answers {status} for a {role}"
                    if role == "national analyst" and status == 403:
                        forbidden.add(template)
                    continue
                if profiler and profile:
                    profile.mkdir(parents=True, exist_ok=True)
                    profiler.dump_stats(profile / f"{UNSAFE.sub('_', name)}.prof")
                rows = percentiles(name, samples, label=world.label)
                rows[1] |= {
                    "target": TARGET_MS,
                    "meets_target": rows[1]["value"] < TARGET_MS,
                    "cpu_ms": round(cpu, 1),
                }
                print(
                    f"  {name:<72} p95 {rows[1]['value']:>8.1f} ms  CPU {cpu:>7.1f} ms",
                    flush=True,
                )
                results += rows
    return results, left


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__)
    parser.add_argument("--organisations", type=int, default=41_000, help="in all, demo's too")
    parser.add_argument("--alerts", type=int, default=1_000_000, help="loaded in bulk")
    parser.add_argument("--cases", type=int, default=100_000, help="loaded in bulk")
    parser.add_argument("--demo-events", type=int, default=20_000, help="the demo day's")
    parser.add_argument("--requests", type=int, default=20, help="per page and person")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--profile", type=Path, default=None, help="write cProfile files here")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="SQLite: seed into this folder once (again if the sizes differ) and measure a copy",
    )
    parser.add_argument(
        "--pages", default=None, help="measure only these pages (comma-separated, as /rules/{rule_id})"
    )  # fmt: skip
    parser.add_argument(
        "--name", default="console", help="the store's name (PostgreSQL: bastion_bench_NAME)"
    )
    args = parser.parse_args(argv)
    loads = [load_average()]
    results: list[dict[str, Any]] = []
    left_out: dict[str, str] = {}
    for backend in ("sqlite", "postgresql"):
        if args.backend not in (backend, "both"):
            continue
        with seeded_world(
            backend,
            args.organisations,
            args.alerts,
            args.cases,
            args.demo_events,
            args.keep,
            args.name,
        ) as world:
            if world is None:
                continue
            results += [
                {"case": f"bulk load: {what} ({world.label})", "metric": "time",
                 "value": round(seconds, 1), "unit": "s"}
                for what, seconds in world.seconds.items()
            ]  # fmt: skip
            loads.append(load_average())
            only = set(args.pages.split(",")) if args.pages else None
            # The seeding's objects live on in this process, as they would not in a server's:
            # moved out of the collector's reach, so a full collection scans what a server
            # holds, not the bench's leftovers.
            gc.collect()
            gc.freeze()
            found, left = measure_pages(world, args.requests, args.profile, only)
            gc.unfreeze()
            results += found
            left_out |= {f"{k}, {backend}": v for k, v in left.items()}
            loads.append(load_average())
    for page, why in left_out.items():
        print(f"  left out: {page}: {why}")
    write_results(args.results, results, loads, left_out=left_out)


if __name__ == "__main__":
    main()
