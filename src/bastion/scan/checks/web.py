"""HTTP for the web checks: politely (rate-limited, backing off on 429 and timeouts), capped.

Every request goes to the target's registered address, names the registered host
in ``Host:`` and SNI, carries the documented User-Agent, and reads at most
``MAX_BODY`` bytes. A 429 waits for its Retry-After (capped) and a timeout waits
``backoff_seconds`` doubling, each retried twice before the request is given up.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

import httpx

from bastion.scan.checks.base import Probe

MAX_BODY = 256 << 10
RETRIES = 2


@dataclass(frozen=True)
class WebResponse:
    url: str
    status: int
    headers: httpx.Headers
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def excerpt(self, size: int = 600) -> str:
        head = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        return f"HTTP {self.status}\n{head}\n\n{self.text[:size]}"


def _context() -> ssl.SSLContext:
    # Old servers must still be readable: their headers and files matter all the more.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("ALL:@SECLEVEL=0")
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    return context


def client(probe: Probe) -> httpx.AsyncClient:
    """Return this target's HTTP client (made once per target; the runner closes it)."""
    found = probe.cache.get("http")
    if found is None:
        found = httpx.AsyncClient(
            verify=_context(),
            timeout=httpx.Timeout(probe.config.read_timeout, connect=probe.config.connect_timeout),
            follow_redirects=False,
            headers={"User-Agent": probe.config.user_agent},
        )
        probe.cache["http"] = found
    return found


def base_url(probe: Probe, port: int, tls: bool) -> str:
    address = probe.target.address
    host = f"[{address}]" if ":" in address else address
    return f"{'https' if tls else 'http'}://{host}:{port}"


async def get(
    probe: Probe,
    module: str,
    port: int,
    tls: bool,
    path: str,
    headers: dict[str, str] | None = None,
) -> WebResponse | None:
    """GET ``path`` on the target's web service at ``port``; None when it never answered."""
    url = base_url(probe, port, tls) + path
    name = probe.target.server_name or probe.target.address
    sent = {"Host": name if port in (80, 443) else f"{name}:{port}", **(headers or {})}
    extensions = (
        {"sni_hostname": probe.target.server_name} if tls and probe.target.server_name else {}
    )
    delay = probe.config.backoff_seconds
    for attempt in range(RETRIES + 1):
        await probe.limiter.wait(
            f"request:{module}", probe.target.address, probe.config.rates.requests_per_second
        )
        try:
            async with client(probe).stream(
                "GET", url, headers=sent, extensions=extensions
            ) as response:
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) >= MAX_BODY:
                        break
            if response.status_code == 429 and attempt < RETRIES:
                wait = response.headers.get("retry-after", "")
                await asyncio.sleep(min(float(wait) if wait.isdigit() else delay, delay * 8))
                probe.cache["backoffs"] = probe.cache.get("backoffs", 0) + 1
                continue
            return WebResponse(url, response.status_code, response.headers, body[:MAX_BODY])
        except httpx.TimeoutException:
            if attempt == RETRIES:
                return None
            probe.cache["backoffs"] = probe.cache.get("backoffs", 0) + 1
            await asyncio.sleep(delay * (2**attempt))
        except (httpx.HTTPError, ssl.SSLError, OSError):
            return None
    return None
