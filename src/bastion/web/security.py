"""Hardening that applies to every answer: security headers, body size and depth limits, rate limits.

These are plain ASGI middleware and the rate limiters, whose counters live in
the database (or Redis) so that every server process shares them; none of them
decides who the caller is (that is ``bastion.web.auth``, on the routers that need it).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable

import redis
from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion import auth
from bastion.core.documents import MAX_DEPTH, json_depth
from bastion.core.errors import BastionError
from bastion.store import Store
from bastion.web.auth import PrincipalDep, csrf_protect

# No inline script or style anywhere: every script and stylesheet is a file Bastion serves.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
MAX_BODY = 4 << 20  # a request body larger than this answers 413


class TooManyRequests(BastionError):
    """The caller sent more requests than its limit allows; ``retry_after`` says when to retry."""

    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# A limit's window is counted in buckets of a tenth of it: the hits of the last ten
# buckets and the current one, so no window of the limit's length ever holds more.
BUCKETS = 10


class RateLimitUnavailable(BastionError):
    """The shared rate-limit counters cannot be reached (Redis or the database is down)."""

    http_status = 503


class RateLimiter:
    """Allow at most ``limit`` hits per key in any ``window`` seconds, counted in time buckets.

    The counters live where every server process sees them (``SqlRateLimiter``,
    ``RedisRateLimiter``), so several ``bastion serve`` workers share one limit; the
    clock is wall time for the same reason.
    """

    def __init__(
        self, scope: str, limit: int, window: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.scope = scope
        self.limit = limit
        self.window = window
        self.clock = clock
        self.bucket_seconds = window / BUCKETS

    def hit(self, key: str, what: str) -> None:
        """Count one hit for ``key``; raise TooManyRequests (not counting it) when over the limit."""
        now = self.clock()
        bucket = int(now // self.bucket_seconds)
        refused = self._count(key, bucket, bucket - BUCKETS, 1)
        if refused is None:
            return
        retry = self._retry_after(refused, now)
        msg = f"too many {what}: at most {self.limit} in {int(self.window)} s; retry in {retry} s"
        raise TooManyRequests(msg, retry)

    def _retry_after(self, window: list[tuple[int, int]], now: float) -> int:
        """Seconds until enough of the window's oldest buckets expire to allow one more hit."""
        excess = sum(n for _, n in window) - self.limit + 1
        dropped = 0
        for bucket, hits in window:
            dropped += hits
            if dropped >= excess:
                return max(1, math.ceil((bucket + BUCKETS + 1) * self.bucket_seconds - now))
        return max(1, math.ceil(self.bucket_seconds))

    def _count(self, key: str, bucket: int, oldest: int, hits: int) -> list[tuple[int, int]] | None:
        """Count ``hits`` unless buckets ``oldest``..``bucket`` would pass the limit; else return them."""
        raise NotImplementedError

    def _give_back(self, key: str, bucket: int, hits: int) -> None:
        """Uncount ``hits`` hits of ``key`` in ``bucket`` that were counted ahead and not used."""
        raise NotImplementedError


class SqlRateLimiter(RateLimiter):
    """A rate limit counted in the SQL store (table ``auth_rate_counters``)."""

    def __init__(
        self,
        store: Store,
        scope: str,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(scope, limit, window, clock)
        self.store = store
        self._next_sweep = 0

    def _count(self, key: str, bucket: int, oldest: int, hits: int) -> list[tuple[int, int]] | None:
        with self.store.transaction() as connection:
            if bucket >= self._next_sweep:  # forget old buckets once a window, per process
                auth.sweep_rate_counters(connection, self.scope, before=oldest)
                self._next_sweep = bucket + BUCKETS
            return auth.count_rate_hit(
                connection,
                self.scope,
                key,
                bucket=bucket,
                oldest=oldest,
                limit=self.limit,
                hits=hits,
            )

    def _give_back(self, key: str, bucket: int, hits: int) -> None:
        with self.store.transaction() as connection:
            auth.give_back_rate_hits(connection, self.scope, key, bucket=bucket, hits=hits)


# Atomic in Redis: read the window's buckets, and count the hits in the newest only if the
# window has room for them. Returns nil when counted, else the buckets' hits.
_REDIS_HIT = """
local counts = {}
local total = 0
for i, key in ipairs(KEYS) do
  local n = tonumber(redis.call('GET', key) or '0')
  counts[i] = n
  total = total + n
end
if total + tonumber(ARGV[3]) > tonumber(ARGV[1]) then return counts end
redis.call('INCRBY', KEYS[#KEYS], ARGV[3])
redis.call('PEXPIRE', KEYS[#KEYS], ARGV[2])
return false
"""
# Uncount hits counted ahead and not used, unless their bucket has expired already.
_REDIS_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECRBY', KEYS[1], ARGV[1]) end
return false
"""


class RedisRateLimiter(RateLimiter):
    """A rate limit counted in Redis (setting ``redis_url``): one expiring key per bucket."""

    def __init__(
        self,
        client: redis.Redis,
        scope: str,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.time,
        prefix: str = "bastion:ratelimit",
    ) -> None:
        super().__init__(scope, limit, window, clock)
        self.client = client
        self.prefix = prefix
        self._script = client.register_script(_REDIS_HIT)
        self._give_back_script = client.register_script(_REDIS_GIVE_BACK)

    def _tag(self, key: str) -> str:
        # One hash tag per (scope, key): all of its buckets live on one cluster node.
        return f"{self.prefix}:{{{self.scope}:{key}}}"

    def _count(self, key: str, bucket: int, oldest: int, hits: int) -> list[tuple[int, int]] | None:
        tag = self._tag(key)
        buckets = list(range(oldest, bucket + 1))
        ttl_ms = math.ceil((BUCKETS + 2) * self.bucket_seconds * 1000)
        try:
            found = self._script(
                keys=[f"{tag}:{b}" for b in buckets], args=[self.limit, ttl_ms, hits]
            )
        except redis.RedisError as exc:
            msg = f"the rate-limit counters in Redis cannot be reached: {exc}"
            raise RateLimitUnavailable(msg) from exc
        if found is None:
            return None
        return [(b, int(n)) for b, n in zip(buckets, found, strict=True) if int(n)]

    def _give_back(self, key: str, bucket: int, hits: int) -> None:
        # What is not given back only makes the limit stricter until it expires.
        with contextlib.suppress(redis.RedisError):
            self._give_back_script(keys=[f"{self._tag(key)}:{bucket}"], args=[hits])


# A process counts a lease of hits in the shared counters at once, up to this share of
# the limit (and at most LEASE_MAX): a limit under LEASE_SHARE counts every hit.
LEASE_SHARE = 100
LEASE_MAX = 50
KEEP_LEASES = 10_000  # keys whose lease a process remembers before forgetting the stale ones


class LeasedRateLimiter(RateLimiter):
    """A shared limit counted ahead: ``lease`` hits at a time, handed out in this process.

    The shared counters (SQL or Redis) are written once per lease instead of once
    per request. A lease is counted before any of its hits is used, so no window
    ever holds more than the limit; what a process leased and did not use in a
    bucket is given back when the key's next hit falls in a later bucket (or
    expires with the window), so the limit is at most ``lease - 1`` hits per
    process stricter for a while. Near the limit, when a whole lease no longer
    fits, each hit is counted alone, exactly as without leases.
    """

    def __init__(self, shared: RateLimiter, lease: int) -> None:
        super().__init__(shared.scope, shared.limit, shared.window, shared.clock)
        self.shared = shared
        self.lease = lease
        self._held: dict[str, tuple[int, int]] = {}  # key -> (bucket, hits left)
        self._lock = threading.Lock()

    def hit_held(self, key: str) -> bool:
        """Count one hit from this process's current lease of ``key``, if it has one left;
        tell whether it did (no store is read: the caller need not leave the event loop)."""
        bucket = int(self.clock() // self.bucket_seconds)
        with self._lock:
            held = self._held.get(key)
            if held is not None and held[0] == bucket and held[1] > 0:
                self._held[key] = (bucket, held[1] - 1)
                return True
        return False

    def hit(self, key: str, what: str) -> None:
        bucket = int(self.clock() // self.bucket_seconds)
        with self._lock:
            held = self._held.pop(key, None)
            if held is not None and held[0] == bucket and held[1] > 0:
                self._held[key] = (bucket, held[1] - 1)
                return
            if len(self._held) > KEEP_LEASES:
                self._held = {k: v for k, v in self._held.items() if v[0] == bucket}
        if held is not None and held[1] > 0 and held[0] > bucket - BUCKETS:
            self.shared._give_back(key, held[0], held[1])
        if self.shared._count(key, bucket, bucket - BUCKETS, self.lease) is None:
            with self._lock:  # another thread may have leased meanwhile: keep both
                other, left = self._held.get(key, (bucket, 0))
                self._held[key] = (bucket, (left if other == bucket else 0) + self.lease - 1)
            return
        self.shared.hit(key, what)  # near the limit: this hit alone, or a 429


def leased(limiter: RateLimiter) -> RateLimiter:
    """Return ``limiter`` counted a lease at a time when its limit is large enough to gain."""
    lease = min(LEASE_MAX, limiter.limit // LEASE_SHARE)
    return LeasedRateLimiter(limiter, lease) if lease > 1 else limiter


def make_limiters(
    store: Store, redis_url: str | None, limits: dict[str, tuple[int, float]]
) -> dict[str, RateLimiter]:
    """Return one shared limiter per scope: in Redis when ``redis_url`` is set, else in SQL.

    Each counts a lease of hits at a time when its limit is large (``leased``).
    """
    if redis_url:
        client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        return {s: leased(RedisRateLimiter(client, s, n, w)) for s, (n, w) in limits.items()}
    return {s: leased(SqlRateLimiter(store, s, n, w)) for s, (n, w) in limits.items()}


class SecurityHeaders:
    """Add the security headers to every HTTP answer (HSTS only over TLS)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers.extend(h for h in HEADERS if h[0] not in present)
                if tls:
                    headers.append(HSTS)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Answer 413 to a request whose body is over ``limit`` bytes, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def receive_limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, receive_limited, send_tracking)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await _answer(send, 413, f"request body too large: at most {self.limit:,} bytes")


class _TooLarge(Exception):
    pass


class JsonDepthLimit:
    """Answer 413 to a JSON request body nested more deeply than Bastion reads.

    FastAPI's decoder recurses per level; a body of ``[[[…`` would otherwise end in
    a RecursionError and a vague 400. Runs inside ``BodyLimit``, so what it buffers
    is already bounded.
    """

    def __init__(self, app: ASGIApp, max_depth: int = MAX_DEPTH) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
        if scope["type"] != "http" or b"json" not in content_type.lower():
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its body
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        depth = json_depth(body)
        if depth > self.max_depth:
            detail = f"body: the JSON nests {depth} arrays or objects deep; at most {self.max_depth} are read"
            await _answer(send, 413, detail)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def api_caller(request: Request, principal: PrincipalDep) -> None:
    """The API router's one dependency: a caller, its CSRF token when it came with the
    session cookie, and one request counted against its limit (per person or token).

    One dependency rather than three: FastAPI walks each one's own dependencies (the
    caller, its session, the store) again on every request, cached or not. Most hits
    come from the process's lease, in the event loop; the others count in the shared
    store, in the thread pool.
    """
    await csrf_protect(request, principal)
    await count_hit(request.app.state.api_limiter, principal.actor, "API requests")


async def count_hit(limiter: RateLimiter, key: str, what: str) -> None:
    """Count one hit of ``key``: from the process's lease in the event loop when it can,
    else in the shared store, in the thread pool (TooManyRequests when over the limit)."""
    if isinstance(limiter, LeasedRateLimiter) and limiter.hit_held(key):
        return
    await run_in_threadpool(limiter.hit, key, what)


_SECRET_PARAMS = re.compile(
    r"([?&](?:code|state|token|access_token|id_token|password)=)[^&\s]*", re.I
)


class RedactSecrets(logging.Filter):
    """Blank secret query parameters (an OIDC ``code`` and ``state``) in access log lines.

    Session ids never travel in URLs and passwords only in POST bodies, which no
    log records; the provider's one-time code does come back in a query string.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _SECRET_PARAMS.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                for a in record.args
            )
        return True


def redact_access_log() -> None:
    """Install ``RedactSecrets`` on uvicorn's access log (once per process)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecrets) for f in access.filters):
        access.addFilter(RedactSecrets())
