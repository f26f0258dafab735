"""HTTP security headers: one Observatory-style score and grade per host's web service.

A grade below B is one web-level finding listing the failing tests: medium under
50 points, low under 70.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bastion.core.types import Severity
from bastion.scan.checks import web
from bastion.scan.checks.base import Check, Lookups, Probe, web_covers
from bastion.scan.checks.observatory import Page, Score, score
from bastion.scan.domain import Evidence, Observation


@dataclass(frozen=True)
class HeadersResult:
    url: str | None
    score: Score | None
    excerpt: str = ""


def _headers(response: web.WebResponse) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        key = name.lower()
        found[key] = f"{found[key]}\n{value}" if key in found else value
    return found


async def run(probe: Probe) -> HeadersResult:
    ports = probe.web_ports()
    if not ports:
        return HeadersResult(None, None)
    port, tls = ports[0]
    response = await web.get(probe, "headers", port, tls, "/")
    if response is None:
        return HeadersResult(None, None)
    plain = [p for p, t in ports if not t]
    redirect: str | None = None
    status = None
    if tls and plain:
        answer = await web.get(probe, "headers", plain[0], False, "/")
        redirect = (
            answer.headers.get("location", "")
            if answer and answer.status in (301, 302, 303, 307, 308)
            else ""
        )
        status = answer.status if answer else None
    elif not tls:
        redirect = (
            response.headers.get("location", "")
            if response.status in (301, 302, 303, 307, 308)
            else ""
        )
    page = Page(https=tls, headers=_headers(response), http_redirect=redirect, http_status=status)
    return HeadersResult(response.url, score(page), response.excerpt(300))


def observe(result: HeadersResult, probe: Probe, lookups: Lookups) -> list[Observation]:
    if result.score is None or result.score.score >= 70:
        return []
    found = result.score
    return [
        Observation(
            check="headers",
            detail="security-headers",
            title=f"Website security headers score {found.score}/100 (grade {found.grade})",
            severity=Severity.MEDIUM if found.score < 50 else Severity.LOW,
            port=probe.web_ports()[0][0],
            evidence=Evidence(probe=f"GET {result.url}", response=result.excerpt),
            remediation="security_headers",
            params={"score": found.score, "grade": found.grade, "failing": found.failing()},
            web=True,
        )
    ]


def serialise(result: HeadersResult) -> dict[str, Any]:
    return {"url": result.url, **(asdict(result.score) if result.score else {})}


CHECK = Check(
    name="headers",
    title="HTTP security headers",
    run=run,
    observe=observe,
    serialise=serialise,
    covers=lambda result, probe: web_covers(result, probe) if result.score else set(),
)
