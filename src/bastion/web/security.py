"""Hardening that applies to every answer: security headers, a body size limit, rate limits.

These are plain ASGI middleware and a small limiter; none of them decides
who the caller is (that is ``bastion.web.auth``, on the routers that need it).
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion.core.errors import BastionError
from bastion.web.auth import PrincipalDep

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


class RateLimiter:
    """Allow at most ``limit`` events per key in any ``window`` seconds (a sliding log).

    Kept in the process: each server process limits on its own, which bounds a
    single client well enough; a shared limit across machines belongs in front.
    """

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, what: str) -> None:
        """Count one event for ``key``; raise TooManyRequests when it is over its limit."""
        now = self.clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                retry = max(1, math.ceil(events[0] + self.window - now))
                msg = f"too many {what}: at most {self.limit} in {int(self.window)} s; retry in {retry} s"
                raise TooManyRequests(msg, retry)
            events.append(now)
            if len(self._events) > 100_000:  # forget idle keys rather than grow without bound
                for stale in [
                    k for k, v in self._events.items() if not v or v[-1] <= now - self.window
                ]:
                    del self._events[stale]


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
        body = json.dumps(
            {"detail": f"request body too large: at most {self.limit:,} bytes"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def api_rate_limit(request: Request, principal: PrincipalDep) -> None:
    """Count one API request against the caller's limit (per person or token)."""
    limiter: RateLimiter = request.app.state.api_limiter
    limiter.hit(principal.actor, "API requests")


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
