"""HTTP security headers scored as Mozilla's HTTP Observatory scores them.

Each test gives one result by the Observatory's identifier, and each result a
modifier. The score starts at 100 and adds every penalty; bonuses are added only
when the score is still 90 or more (as the Observatory does); the grade comes
from the score (A+ 100+, A 90, A- 85, B+ 80, B 70, B- 65, C+ 60, C 50, C- 45,
D+ 40, D 30, D- 25, F below).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MODIFIERS = {
    "csp-implemented-with-no-unsafe-default-src-none": 10,
    "csp-implemented-with-no-unsafe": 5,
    "csp-implemented-with-unsafe-eval": -10,
    "csp-implemented-with-unsafe-inline": -20,
    "csp-implemented-with-insecure-scheme": -20,
    "csp-not-implemented": -25,
    "cookies-secure-with-httponly-sessions-and-samesite": 5,
    "cookies-not-found": 0,
    "cookies-secure-with-httponly-sessions": 0,
    "cookies-without-secure-flag": -20,
    "cookies-session-without-httponly-flag": -30,
    "cross-origin-resource-sharing-not-implemented": 0,
    "cross-origin-resource-sharing-implemented-with-public-access": 0,
    "cross-origin-resource-sharing-implemented-with-universal-access": -50,
    "redirection-to-https": 0,
    "redirection-not-needed-no-http": 0,
    "redirection-missing": -20,
    "redirection-not-to-https": -20,
    "referrer-policy-private": 5,
    "referrer-policy-no-referrer-when-downgrade": 0,
    "referrer-policy-not-implemented": 0,
    "referrer-policy-unsafe": -5,
    "hsts-preloaded": 5,
    "hsts-implemented-max-age-at-least-six-months": 0,
    "hsts-implemented-max-age-less-than-six-months": -10,
    "hsts-not-implemented": -20,
    "hsts-not-implemented-no-https": -20,
    "x-content-type-options-nosniff": 0,
    "x-content-type-options-not-implemented": -5,
    "x-frame-options-implemented-via-csp": 5,
    "x-frame-options-sameorigin-or-deny": 0,
    "x-frame-options-not-implemented": -20,
}
GRADES = (
    (100, "A+"), (90, "A"), (85, "A-"), (80, "B+"), (70, "B"), (65, "B-"), (60, "C+"),
    (50, "C"), (45, "C-"), (40, "D+"), (30, "D"), (25, "D-"), (0, "F"),
)  # fmt: skip
SIX_MONTHS = 15_768_000
_SESSION = re.compile(r"sess|auth|token|login|sid", re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    """What the tests read: the HTTPS (else HTTP) answer's headers and the HTTP port's redirect."""

    https: bool
    headers: dict[str, str]  # lower-case names; repeated headers joined by "\n"
    http_redirect: str | None  # Location of the plain-HTTP answer; "" none; None no HTTP port
    http_status: int | None = None


def _csp(page: Page) -> str:
    policy = page.headers.get("content-security-policy")
    if not policy:
        return "csp-not-implemented"
    directives = {
        part.strip().split(" ", 1)[0].lower(): part.strip()
        for part in policy.split(";")
        if part.strip()
    }
    scripts = directives.get("script-src") or directives.get("default-src") or ""
    if "'unsafe-inline'" in scripts:
        return "csp-implemented-with-unsafe-inline"
    if "'unsafe-eval'" in scripts:
        return "csp-implemented-with-unsafe-eval"
    if "http:" in scripts.split():
        return "csp-implemented-with-insecure-scheme"
    if directives.get("default-src", "").split()[1:] == ["'none'"]:
        return "csp-implemented-with-no-unsafe-default-src-none"
    return "csp-implemented-with-no-unsafe"


def _cookies(page: Page) -> str:
    cookies = [c for c in page.headers.get("set-cookie", "").split("\n") if c.strip()]
    if not cookies:
        return "cookies-not-found"
    samesite = True
    for cookie in cookies:
        flags = cookie.lower()
        name = cookie.split("=", 1)[0]
        if "secure" not in flags:
            return "cookies-without-secure-flag"
        if _SESSION.search(name) and "httponly" not in flags:
            return "cookies-session-without-httponly-flag"
        samesite = samesite and "samesite" in flags
    return (
        "cookies-secure-with-httponly-sessions-and-samesite"
        if samesite
        else "cookies-secure-with-httponly-sessions"
    )


def _cors(page: Page) -> str:
    origin = page.headers.get("access-control-allow-origin")
    if not origin:
        return "cross-origin-resource-sharing-not-implemented"
    credentials = page.headers.get("access-control-allow-credentials", "").lower() == "true"
    if origin.strip() == "*" and not credentials:
        return "cross-origin-resource-sharing-implemented-with-public-access"
    if credentials:
        return "cross-origin-resource-sharing-implemented-with-universal-access"
    return "cross-origin-resource-sharing-implemented-with-public-access"


def _redirection(page: Page) -> str:
    if page.http_redirect is None:
        return "redirection-not-needed-no-http"
    if not page.http_redirect:
        return "redirection-missing"
    return (
        "redirection-to-https"
        if page.http_redirect.lower().startswith("https://")
        else "redirection-not-to-https"
    )


def _referrer(page: Page) -> str:
    policy = page.headers.get("referrer-policy", "").lower().split(",")[-1].strip()
    if not policy:
        return "referrer-policy-not-implemented"
    if policy in ("no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"):
        return "referrer-policy-private"
    if policy == "no-referrer-when-downgrade":
        return "referrer-policy-no-referrer-when-downgrade"
    return "referrer-policy-unsafe"


def _hsts(page: Page) -> str:
    if not page.https:
        return "hsts-not-implemented-no-https"
    value = page.headers.get("strict-transport-security", "").lower()
    found = re.search(r"max-age\s*=\s*\"?(\d+)", value)
    if not found:
        return "hsts-not-implemented"
    if int(found.group(1)) < SIX_MONTHS:
        return "hsts-implemented-max-age-less-than-six-months"
    if "preload" in value and "includesubdomains" in value:
        return "hsts-preloaded"
    return "hsts-implemented-max-age-at-least-six-months"


def _xcto(page: Page) -> str:
    if page.headers.get("x-content-type-options", "").strip().lower() == "nosniff":
        return "x-content-type-options-nosniff"
    return "x-content-type-options-not-implemented"


def _xfo(page: Page) -> str:
    if "frame-ancestors" in page.headers.get("content-security-policy", "").lower():
        return "x-frame-options-implemented-via-csp"
    if page.headers.get("x-frame-options", "").strip().lower() in ("deny", "sameorigin"):
        return "x-frame-options-sameorigin-or-deny"
    return "x-frame-options-not-implemented"


TESTS = {
    "content-security-policy": _csp,
    "cookies": _cookies,
    "cross-origin-resource-sharing": _cors,
    "redirection": _redirection,
    "referrer-policy": _referrer,
    "strict-transport-security": _hsts,
    "x-content-type-options": _xcto,
    "x-frame-options": _xfo,
}


@dataclass(frozen=True)
class Score:
    score: int
    grade: str
    results: dict[str, str]  # test → result identifier

    def failing(self) -> list[str]:
        """Return the tests whose result costs points, as ``test (result)``."""
        return [f"{t} ({r})" for t, r in self.results.items() if MODIFIERS[r] < 0]


def score(page: Page) -> Score:
    """Score a page's headers: the Observatory's results, modifiers, score and grade."""
    results = {name: test(page) for name, test in TESTS.items()}
    total = 100 + sum(MODIFIERS[r] for r in results.values() if MODIFIERS[r] < 0)
    if total >= 90:
        total += sum(MODIFIERS[r] for r in results.values() if MODIFIERS[r] > 0)
    total = max(total, 0)
    letter = next(g for floor, g in GRADES if total >= floor)
    return Score(total, letter, results)
