"""A large limit is counted a lease at a time, and still never lets a window hold more than it.

Two ``LeasedRateLimiter`` over one database (or one Redis) stand for two server
processes: each counts its lease in the shared counters before handing it out.
"""

from __future__ import annotations

import uuid

import redis
from sqlalchemy import func, select
from tests.web.test_rate_limits import Clock, redis_url, second_store

from bastion.auth.models import RateCounterRow
from bastion.store import Store
from bastion.web.security import (
    LeasedRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    SqlRateLimiter,
    TooManyRequests,
    leased,
)

__all__ = ["redis_url"]  # the fixture, shared with the rate-limit tests


def _allowed(limiters: list[RateLimiter], hits: int) -> int:
    allowed = 0
    for i in range(hits):
        try:
            limiters[i % len(limiters)].hit("alice", "tests")
        except TooManyRequests:
            continue
        allowed += 1
    return allowed


def _counted(store: Store, scope: str) -> int:
    with store.session() as session:
        where = RateCounterRow.scope == scope
        return int(session.scalar(select(func.sum(RateCounterRow.hits)).where(where)) or 0)


def test_small_limits_count_every_hit_and_large_ones_lease(sqlite_store: Store) -> None:
    signin = SqlRateLimiter(sqlite_store, "signin", 20, 60.0)
    assert leased(signin) is signin  # a sign-in limit of 20: exact, hit by hit
    api = leased(SqlRateLimiter(sqlite_store, "api", 600, 60.0))
    assert isinstance(api, LeasedRateLimiter)
    assert api.lease == 6


def test_one_process_gets_exactly_the_limit(sqlite_store: Store) -> None:
    clock = Clock(6000.0)
    scope = f"l{uuid.uuid4().hex[:8]}"
    limiter = LeasedRateLimiter(SqlRateLimiter(sqlite_store, scope, 200, 60.0, clock), 10)
    assert _allowed([limiter], 260) == 200
    assert _counted(sqlite_store, scope) == 200


def test_two_processes_never_pass_the_shared_limit(store: Store) -> None:
    clock = Clock(6000.0)
    scope = f"l{uuid.uuid4().hex[:8]}"
    other = second_store(store)
    try:
        limiters: list[RateLimiter] = [
            LeasedRateLimiter(SqlRateLimiter(s, scope, 200, 60.0, clock), 10)
            for s in (store, other)
        ]
        allowed = _allowed(limiters, 300)
    finally:
        other.dispose()
    assert 200 - 2 * 9 <= allowed <= 200  # at most a lease less one per process unused
    assert _counted(store, scope) <= 200


def test_an_unused_lease_is_given_back_when_its_bucket_is_over(sqlite_store: Store) -> None:
    clock = Clock(6000.0)
    scope = f"l{uuid.uuid4().hex[:8]}"
    limiter = LeasedRateLimiter(SqlRateLimiter(sqlite_store, scope, 200, 60.0, clock), 10)
    limiter.hit("alice", "tests")
    assert _counted(sqlite_store, scope) == 10  # the lease, counted before use
    clock.now = 6007.0  # the next 6-second bucket
    limiter.hit("alice", "tests")
    assert _counted(sqlite_store, scope) == 1 + 10  # nine given back, a new lease


def test_redis_leases_share_the_limit_and_are_given_back(redis_url: str) -> None:
    clock = Clock(6000.0)
    client = redis.Redis.from_url(redis_url)
    prefix = f"bastion:ratelimit:{uuid.uuid4()}"
    limiters: list[RateLimiter] = [
        LeasedRateLimiter(RedisRateLimiter(client, "t", 200, 60.0, clock, prefix=prefix), 10)
        for _ in range(2)
    ]
    allowed = _allowed(limiters, 300)
    assert 200 - 2 * 9 <= allowed <= 200
    clock.now = 6007.0
    limiters[0].hit("bob", "tests")
    clock.now = 6013.0
    limiters[0].hit("bob", "tests")
    counted = [int(client.get(k) or 0) for k in client.scan_iter(f"{prefix}:{{t:bob}}:*")]
    client.close()
    assert sorted(counted) == [1, 10]
