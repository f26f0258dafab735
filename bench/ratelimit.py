"""Rate-limit benchmark: what one counted request costs with the shared counters.

Run as ``python -m bench.ratelimit``. Every API request and sign-in attempt counts one
hit in a limiter shared by the server's processes: in the database (SQLite here, and
PostgreSQL and Redis when they answer on 127.0.0.1). It times ``hit`` for many keys,
one at a time in one process, in CPU time (this process's: a server's database or
Redis work is not in it) and wall time, and writes ``bench/results/ratelimit.json``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bastion.store import Store, upgrade
from bastion.web.security import RateLimiter, RedisRateLimiter, SqlRateLimiter
from bench._boundary.report import Load, write_document

RESULTS = Path(__file__).parent / "results" / "ratelimit.json"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379/15"


def _time(limiter: RateLimiter, hits: int, keys: int) -> tuple[float, float]:
    """Return CPU and wall microseconds per hit over ``hits`` hits spread over ``keys`` keys."""
    for k in range(keys):  # warm: each key's bucket row exists, as in a busy server
        limiter.hit(f"user:{k}", "bench")
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(hits):
        limiter.hit(f"user:{i % keys}", "bench")
    return (
        (time.process_time() - cpu) / hits * 1e6,
        (time.perf_counter() - wall) / hits * 1e6,
    )


def _postgres() -> Store | None:
    try:
        with create_engine(POSTGRES, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS bastion_bench_ratelimit"))
            conn.execute(text("CREATE DATABASE bastion_bench_ratelimit"))
    except OperationalError:  # no server: the case is left out
        return None
    store = Store.from_url(POSTGRES.rsplit("/", 1)[0] + "/bastion_bench_ratelimit")
    upgrade(store.engine)
    return store


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ratelimit", description=__doc__)
    parser.add_argument("--hits", type=int, default=5_000)
    parser.add_argument("--keys", type=int, default=100)
    args = parser.parse_args(argv)
    load = Load()
    limit = args.hits * 10  # never refused: the cost of a counted hit
    cases: list[tuple[str, Callable[[], RateLimiter | None]]] = []
    folder = Path(tempfile.mkdtemp(prefix="bench-ratelimit-"))
    sqlite = Store.from_url(f"sqlite:///{folder / 'bastion.db'}")
    upgrade(sqlite.engine)
    cases.append(("SQLite (WAL)", lambda: SqlRateLimiter(sqlite, "bench", limit, 60.0)))
    postgres = _postgres()
    if postgres is not None:
        cases.append(("PostgreSQL", lambda: SqlRateLimiter(postgres, "bench", limit, 60.0)))
    client = redis.Redis.from_url(REDIS, socket_connect_timeout=1)
    try:
        client.ping()
        cases.append(
            ("Redis", lambda: RedisRateLimiter(client, "bench", limit, 60.0, prefix="bench:rl"))
        )
    except redis.RedisError:
        pass
    results: list[dict[str, Any]] = []
    for name, make in cases:
        limiter = make()
        assert limiter is not None
        cpu, wall = _time(limiter, args.hits, args.keys)
        print(f"{name:<14} {cpu:8.0f} µs CPU  {wall:8.0f} µs wall per hit")
        results += [
            {"case": f"rate-limit hit, {name}", "metric": "cpu", "value": round(cpu), "unit": "µs"},
            {
                "case": f"rate-limit hit, {name}",
                "metric": "wall",
                "value": round(wall),
                "unit": "µs",
            },
        ]
    write_document(RESULTS, results, load)


if __name__ == "__main__":
    main()
