"""Web benchmark: what signing in costs, and how fast scoped API pages answer.

Run as ``python -m bench.web``. Figures: argon2id hash and verify time at the
production cost (every password sign-in pays one verify), and requests per
second for a page of 50 alerts through the ASGI app, for a national analyst
and for members of 1 and of 100 organisations (the tenancy ``IN (...)`` filter),
over a federation of 2,000 organisations and 20,000 alerts on SQLite. Requests
run in one process, one at a time; the machine is shared with other work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from bastion.audit import Actor
from bench._boundary.report import machine

RESULTS = Path(__file__).parent / "results" / "web.json"


def _argon2(rounds: int) -> list[dict[str, Any]]:
    from bastion.auth.users import HASHER

    started = time.perf_counter()
    hashed = ""
    for _ in range(rounds):
        hashed = HASHER.hash("a benchmark passphrase")
    hash_ms = (time.perf_counter() - started) / rounds * 1000
    started = time.perf_counter()
    for _ in range(rounds):
        HASHER.verify(hashed, "a benchmark passphrase")
    verify_ms = (time.perf_counter() - started) / rounds * 1000
    return [
        {
            "case": "argon2id hash (64 MiB, t=3, p=4)",
            "metric": "latency",
            "value": round(hash_ms, 1),
            "unit": "ms",
        },
        {
            "case": "argon2id verify (one password sign-in)",
            "metric": "latency",
            "value": round(verify_ms, 1),
            "unit": "ms",
        },
    ]


def _seed(store: Any, organisations: int, alerts: int) -> list[str]:
    from bastion import orgs
    from bastion.alerts import record_alerts

    codes = [f"B{i:05d}" for i in range(organisations)]
    with store.session() as session:
        for code in codes:
            orgs.save_organisation(
                session,
                orgs.Organisation(code, f"Trust {code}", orgs.OrgType.TRUST),
                actor=Actor.cli("bench"),
            )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "organization.id": [codes[i % organisations] for i in range(alerts)],
            "host.ip": [f"10.{i % 250}.{(i // 250) % 250}.1" for i in range(alerts)],
            "@timestamp": [start + timedelta(minutes=i) for i in range(alerts)],
            "kind": ["indicator"] * alerts,
            "key": [f"ind-{i}" for i in range(alerts)],
            "title": ["bench alert"] * alerts,
            "severity": ["high"] * alerts,
            "blocked": [i % 2 == 0 for i in range(alerts)],
            "indicator.type": ["ipv4"] * alerts,
            "indicator.value": ["203.0.113.9"] * alerts,
            "indicator.source": ["bench"] * alerts,
            "indicator.threat": [""] * alerts,
            "event.original": ["raw"] * alerts,
            "log.file.path": ["/bench"] * alerts,
            "log.offset": list(range(alerts)),
            "event.dataset": ["panos.traffic"] * alerts,
        }
    )
    with store.session() as session:
        record_alerts(session, frame)
    return codes


async def _rate(app: Any, cookie: str, csrf: str, path: str, seconds: float) -> float:
    from bastion.web.testing import signed_in_client

    async with signed_in_client(app, cookie, csrf) as client:
        assert (await client.get(path)).status_code == 200
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            answer = await client.get(path)
            assert answer.status_code == 200, answer.text
            done += 1
        return done / (time.perf_counter() - started)


def _api(organisations: int, alerts: int, seconds: float) -> list[dict[str, Any]]:
    from bastion.auth import users as auth_users
    from bastion.web.testing import FAST_HASHER

    production, auth_users.HASHER = auth_users.HASHER, FAST_HASHER  # sign-in cost is measured above
    try:
        return _pages(organisations, alerts, seconds)
    finally:
        auth_users.HASHER = production


def _pages(organisations: int, alerts: int, seconds: float) -> list[dict[str, Any]]:
    from bastion.auth import Role
    from bastion.core.settings import Settings
    from bastion.store import Store, upgrade
    from bastion.web import create_app
    from bastion.web.testing import create_person, open_session

    folder = Path(tempfile.mkdtemp(prefix="bastion-bench-web-"))
    store = Store.from_url(f"sqlite:///{folder / 'bastion.db'}")
    upgrade(store.engine)
    codes = _seed(store, organisations, alerts)
    app = create_app(store, Settings(data_dir=folder), api_limit=(10**9, 60.0))
    people = {
        "national analyst": create_person(store, "analyst", Role.NATIONAL_ANALYST),
        "member of 1 organisation": create_person(
            store, "one", None, ((codes[0], Role.ORG_VIEWER),)
        ),
        "member of 100 organisations": create_person(
            store, "many", None, tuple((c, Role.ORG_VIEWER) for c in codes[:100])
        ),
    }
    results = []
    for label, person in people.items():
        cookie, csrf = open_session(store, person)
        rate = asyncio.run(_rate(app, cookie, csrf, "/api/v1/alerts?limit=50", seconds))
        results.append(
            {
                "case": f"GET /api/v1/alerts (50 of {alerts:,}), {label}",
                "metric": "throughput",
                "value": round(rate, 1),
                "unit": "requests/s",
            }
        )
    store.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--organisations", type=int, default=2000)
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = _argon2(args.rounds) + _api(args.organisations, args.alerts, args.seconds)
    for r in results:
        print(f"{r['case']:<70} {r['value']:>10} {r['unit']}")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(
        json.dumps(
            {
                "machine": {
                    **machine(),
                    "note": "shared machine: other engineers' work ran on the same 2 cores",
                },
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "results": results,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
