"""Rate limits shared between server processes: counted in SQL, or in Redis with ``redis_url``.

Two apps over one database stand for two ``bastion serve`` workers: a limit one of
them counts holds for the other.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import redis
from fastapi import FastAPI
from sqlalchemy import func, select
from tests.conftest import need_service

from bastion import auth
from bastion.auth.models import RateCounterRow
from bastion.core.settings import Settings
from bastion.store import Store
from bastion.web import create_app
from bastion.web.security import (
    RateLimiter,
    RateLimitUnavailable,
    RedisRateLimiter,
    SqlRateLimiter,
    TooManyRequests,
)
from bastion.web.testing import create_person, open_session, signed_in_client

pytestmark = pytest.mark.anyio

REDIS_URL = os.environ.get("BASTION_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def worker_database(url: str, worker: str) -> str:
    """Give each pytest-xdist worker (``gw0``, ``gw1``…) a Redis database of its own.

    Worker ``gwN`` counts down N databases from the one ``url`` names (of Redis's 16),
    so one worker clearing its rate-limit keys never clears another's mid-test.
    """
    if not worker.startswith("gw"):
        return url
    parts = urlsplit(url)
    first = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(first - int(worker[2:])) % 16}"))


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database for tests, its rate-limit keys cleared (skips locally when absent)."""
    url = worker_database(REDIS_URL, os.environ.get("PYTEST_XDIST_WORKER", ""))
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        need_service(f"Redis at {url}")
    stale = list(client.scan_iter("bastion:ratelimit:*"))
    if stale:
        client.delete(*stale)
    yield url
    client.close()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def second_store(store: Store) -> Store:
    """Another engine and pool on the same database: what a second worker process opens."""
    return Store.from_url(store.engine.url.render_as_string(hide_password=False))


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


def two_workers(
    store: Store, other: Store, tmp_path: Path, settings: Settings | None = None
) -> tuple[FastAPI, FastAPI]:
    chosen = settings or Settings(data_dir=tmp_path)
    limits = {"signin_limit": (3, 60.0), "api_limit": (5, 60.0)}
    return create_app(store, chosen, **limits), create_app(other, chosen, **limits)  # type: ignore[arg-type]


async def api_codes(apps: list[FastAPI], cookie: str, csrf: str) -> list[int]:
    codes = []
    for app in apps:
        async with signed_in_client(app, cookie, csrf) as client:
            codes.append((await client.get("/api/v1/me")).status_code)
    return codes


async def signin_codes(apps: list[FastAPI]) -> list[int]:
    codes = []
    for app in apps:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            form = await client.get("/signin")
            data = {"username": "x", "password": "y", "csrf_token": csrf_of(form.text)}
            codes.append((await client.post("/signin", data=data)).status_code)
    return codes


async def test_two_workers_on_one_database_share_the_api_limit(
    store: Store, tmp_path: Path, make_app: Callable[[Store, Path], FastAPI]
) -> None:
    make_app(store, tmp_path)  # seeds the federation
    other = second_store(store)
    try:
        first, second = two_workers(store, other, tmp_path)
        lead = create_person(store, "lead", None, (("RAL", auth.Role.ORG_LEAD),))
        cookie, csrf = open_session(store, lead)
        # Five requests in all, alternating workers, then both refuse the sixth.
        codes = await api_codes([first, second, first, second, first, second, first], cookie, csrf)
    finally:
        other.dispose()
    assert codes == [200] * 5 + [429, 429]


async def test_two_workers_on_one_database_share_the_sign_in_limit(
    store: Store, tmp_path: Path, make_app: Callable[[Store, Path], FastAPI]
) -> None:
    make_app(store, tmp_path)
    other = second_store(store)
    try:
        first, second = two_workers(store, other, tmp_path)
        codes = await signin_codes([first, second, first, second])
    finally:
        other.dispose()
    assert codes == [401, 401, 401, 429]


async def test_two_workers_share_the_limits_in_redis(
    store: Store, tmp_path: Path, make_app: Callable[[Store, Path], FastAPI], redis_url: str
) -> None:
    make_app(store, tmp_path)
    other = second_store(store)
    settings = Settings(data_dir=tmp_path, redis_url=redis_url)
    try:
        first, second = two_workers(store, other, tmp_path, settings)
        lead = create_person(store, "lead", None, (("RAL", auth.Role.ORG_LEAD),))
        cookie, csrf = open_session(store, lead)
        api = await api_codes([first, second] * 3, cookie, csrf)
        signin = await signin_codes([second, first, second, first])
        with store.session() as session:  # Redis counted them: the database holds nothing
            assert session.scalar(select(func.count()).select_from(RateCounterRow)) == 0
    finally:
        other.dispose()
    assert api == [200] * 5 + [429]
    assert signin == [401, 401, 401, 429]


def limiters(store: Store, clock: Clock, limit: int) -> list[RateLimiter]:
    scope = f"t{uuid.uuid4().hex[:8]}"
    return [SqlRateLimiter(store, scope, limit, 60.0, clock)]


def check_window_slides(limiter: RateLimiter, clock: Clock) -> None:
    """Limit 3 a minute in 6 s buckets: three hits at t=0..2 hold the window until t=66."""
    for t in (0.0, 1.0, 2.0):
        clock.now = 6000.0 + t
        limiter.hit("alice", "tests")
    clock.now = 6003.0
    with pytest.raises(TooManyRequests) as refused:
        limiter.hit("alice", "tests")
    assert refused.value.retry_after == 63  # bucket 1000 leaves the window at t=6066
    assert "at most 3 in 60 s; retry in 63 s" in str(refused.value)
    limiter.hit("bob", "tests")  # another key has a limit of its own
    clock.now = 6065.9
    with pytest.raises(TooManyRequests):
        limiter.hit("alice", "tests")
    clock.now = 6066.0
    # Three again: the hit refused at 6065.9 (in a bucket still in the window) was not counted.
    for _ in range(3):
        limiter.hit("alice", "tests")
    with pytest.raises(TooManyRequests):
        limiter.hit("alice", "tests")


def test_the_sql_window_slides_and_refusals_are_not_counted(sqlite_store: Store) -> None:
    clock = Clock(0.0)
    [limiter] = limiters(sqlite_store, clock, 3)
    check_window_slides(limiter, clock)


def test_the_redis_window_slides_and_refusals_are_not_counted(redis_url: str) -> None:
    clock = Clock(0.0)
    client = redis.Redis.from_url(redis_url)
    limiter = RedisRateLimiter(
        client, "t", 3, 60.0, clock, prefix=f"bastion:ratelimit:{uuid.uuid4()}"
    )
    check_window_slides(limiter, clock)
    client.close()


def test_old_buckets_are_swept(sqlite_store: Store) -> None:
    clock = Clock(1000.0)
    limiter = SqlRateLimiter(sqlite_store, "sweep", 100, 60.0, clock)
    for key in ("a", "b", "c"):
        limiter.hit(key, "tests")
    clock.now = 5000.0
    limiter.hit("d", "tests")
    with sqlite_store.session() as session:
        keys = set(session.scalars(select(RateCounterRow.key)))
    assert keys == {"d"}


def test_concurrent_hits_never_pass_the_limit(store: Store) -> None:
    limiter = SqlRateLimiter(store, f"c{uuid.uuid4().hex[:8]}", 30, 60.0)

    def try_hit(_: int) -> bool:
        try:
            limiter.hit("shared", "tests")
        except TooManyRequests:
            return False
        return True

    with ThreadPoolExecutor(max_workers=4) as pool:
        allowed = sum(pool.map(try_hit, range(60)))
    assert allowed == 30


def test_redis_down_answers_503_not_500() -> None:
    client = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    limiter = RedisRateLimiter(client, "down", 3, 60.0)
    with pytest.raises(RateLimitUnavailable) as down:
        limiter.hit("alice", "tests")
    assert down.value.http_status == 503


async def test_more_requests_in_flight_than_pooled_connections_never_deadlock(
    store: Store, tmp_path: Path
) -> None:
    """Each request's session holds a pooled connection (its token is looked up) while the
    SQL rate limiter counts the hit: with the counter on a connection of the same pool,
    more requests in flight than the pool's connections each waited for a connection only
    another waiting request could give back, until the pool's timeout (a 500 each)."""
    url = store.engine.url.render_as_string(hide_password=False)
    small = Store.from_url(url, pool_size=2, max_overflow=0, pool_timeout=3)
    try:
        # A limit of 100: counted hit by hit in SQL (no lease), every request a counter write.
        app = create_app(small, Settings(data_dir=tmp_path), api_limit=(100, 60.0))
        with small.session() as session:
            token = auth.create_token(
                session, auth.system_principal("test"), "pool", ["alerts:read"]
            )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {token.value}"},
        ) as client:
            answers = await asyncio.gather(
                *(client.get("/api/v1/alerts?limit=5") for _ in range(12))
            )
        assert [a.status_code for a in answers] == [200] * 12
        with small.session() as session:
            counted = session.scalar(
                select(func.sum(RateCounterRow.hits)).where(RateCounterRow.scope == "api")
            )
        assert counted == 12
    finally:
        small.dispose()
