"""Politeness: per-address rate limits shared through Redis, one module at a time per host.

Rates are counted in one-second windows keyed by kind and address
(``scan:rate:packet:192.0.2.7:<second>``): every scanner process that shares the
Redis shares the budget. Without Redis the same windows are counted in process.
A host is locked while one module scans it (``scan:lock:<address>``), so two
processes never run two modules against one host at once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

LOCK_SECONDS = 600  # a lock whose holder died frees itself after this long


@dataclass(frozen=True)
class Rates:
    """How fast one address may be probed: port probes (packets) and requests per module."""

    packets_per_second: float = 5.0
    requests_per_second: float = 1.0


class Limiter(Protocol):
    """What the scanner asks before each packet or request, and around each module."""

    rates: Rates

    async def wait(self, kind: str, address: str, per_second: float) -> None: ...

    def module_lock(self, address: str) -> AsyncIteratorContext: ...

    async def close(self) -> None: ...


class AsyncIteratorContext(Protocol):
    async def __aenter__(self) -> None: ...

    async def __aexit__(self, *args: object) -> None: ...


def _slot(per_second: float) -> tuple[int, int]:
    """Return the current window (in units of the rate's window) and how many it allows."""
    if per_second >= 1:
        return int(time.time()), int(per_second)
    window = 1 / per_second  # e.g. 0.5/s: one every two seconds
    return int(time.time() / window), 1


class LocalLimiter:
    """In-process limits: the fallback when no Redis is configured."""

    def __init__(self, rates: Rates) -> None:
        self.rates = rates
        self._counts: dict[tuple[str, str, int], int] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, kind: str, address: str, per_second: float) -> None:
        while True:
            window, allowed = _slot(per_second)
            key = (kind, address, window)
            used = self._counts.get(key, 0)
            if used < allowed:
                self._counts[key] = used + 1
                if len(self._counts) > 100_000:  # forget past windows
                    self._counts = {k: v for k, v in self._counts.items() if k[2] >= window}
                return
            await asyncio.sleep(max(0.001, 1 - (time.time() % 1)) if per_second >= 1 else 0.05)

    @asynccontextmanager
    async def module_lock(self, address: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(address, asyncio.Lock())
        async with lock:
            yield

    async def close(self) -> None:
        return None


class RedisLimiter:
    """Limits shared by every scanner process through one Redis."""

    def __init__(self, url: str, rates: Rates) -> None:
        from redis import asyncio as redis

        self.rates = rates
        self._redis = redis.from_url(url)
        self._token = uuid.uuid4().hex

    async def wait(self, kind: str, address: str, per_second: float) -> None:
        while True:
            window, allowed = _slot(per_second)
            key = f"scan:rate:{kind}:{address}:{window}"
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, 5)
                used, _ = await pipe.execute()
            if int(used) <= allowed:
                return
            await asyncio.sleep(max(0.001, 1 - (time.time() % 1)) if per_second >= 1 else 0.05)

    @asynccontextmanager
    async def module_lock(self, address: str) -> AsyncIterator[None]:
        key = f"scan:lock:{address}"
        while not await self._redis.set(key, self._token, nx=True, ex=LOCK_SECONDS):
            await asyncio.sleep(0.05)
        try:
            yield
        finally:
            if await self._redis.get(key) == self._token.encode():
                await self._redis.delete(key)

    async def close(self) -> None:
        await self._redis.aclose()


def limiter(redis_url: str | None, rates: Rates) -> LocalLimiter | RedisLimiter:
    """Return the Redis limiter when a Redis is configured, else the in-process one."""
    return RedisLimiter(redis_url, rates) if redis_url else LocalLimiter(rates)
