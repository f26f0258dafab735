"""The pure rules of scanning: TLS grade caps, the Observatory score, the schedule, politeness."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import UTC, datetime

import pytest
from tests.conftest import need_service

from bastion import scan
from bastion.scan.checks.observatory import Page, score
from bastion.scan.checks.tlsgrade import TlsFacts, grade
from bastion.scan.policy import in_window
from bastion.scan.politeness import LocalLimiter, Rates, RedisLimiter
from bastion.scan.scheduler import NEVER, plan

GOOD = TlsFacts(
    protocols=("TLS 1.2", "TLS 1.3"), ciphers=("ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256"),
    expired=False, self_signed=False, trusted=True, hostname_matches=True, key_type="RSA",
    key_bits=2048, signature_hash="sha256", heartbleed=False, ccs_injection=False,
)  # fmt: skip


def facts(**changes: object) -> TlsFacts:
    return TlsFacts(**{**GOOD.__dict__, **changes})  # type: ignore[arg-type]


def test_tls_grade_caps() -> None:
    assert grade(GOOD) == ("A", [])
    assert grade(facts(protocols=("TLS 1.0", "TLS 1.2", "TLS 1.3")))[0] == "B"
    assert grade(facts(key_bits=1024))[0] == "B"
    assert grade(facts(protocols=("SSL 3.0", "TLS 1.2", "TLS 1.3")))[0] == "C"
    assert grade(facts(expired=True))[0] == "F"
    assert grade(facts(self_signed=True, trusted=False)) == ("F", ["certificate self-signed"])
    assert grade(facts(signature_hash="md5"))[0] == "F"
    assert grade(facts(protocols=("TLS 1.2",)))[0] == "A-"


def test_observatory_score_of_a_page_without_headers_and_with_all() -> None:
    bare = score(Page(https=False, headers={}, http_redirect=""))
    assert (bare.score, bare.grade) == (10, "F")  # 100 - 25 - 20 - 20 - 5 - 20
    assert bare.results["strict-transport-security"] == "hsts-not-implemented-no-https"
    full = score(
        Page(
            https=True,
            headers={
                "content-security-policy": "default-src 'self'; frame-ancestors 'none'",
                "strict-transport-security": "max-age=31536000",
                "x-content-type-options": "nosniff",
                "referrer-policy": "no-referrer",
            },
            http_redirect=None,
        )
    )
    assert (full.score, full.grade, full.failing()) == (115, "A+", [])


def test_the_schedule_orders_never_scanned_and_brought_forward_first() -> None:
    now = 1_000_000_000.0
    day = 86400.0
    targets = [scan.Target("A", f"h{i}", "203.0.113.1", None) for i in range(4)]
    due = plan(
        targets,
        [now - 8 * day, NEVER, now - 2 * day, now - 3 * day],
        ["", "", "national cyber alert CC-1", ""],
        [False, False, False, True],
        now,
        7.0,
        1.0,
    )
    assert [p.target.host for p in due] == ["h1", "h2", "h3", "h0"]
    assert due[1].reason == "national cyber alert CC-1"


def test_quiet_hours_run_past_midnight() -> None:
    assert in_window("22:00-06:00", datetime(2026, 12, 7, 2, 0, tzinfo=UTC), "Europe/London")
    assert not in_window("08:00-18:30", datetime(2026, 12, 7, 19, 0, tzinfo=UTC), "Europe/London")


async def _three_waits(limiters: list[LocalLimiter | RedisLimiter]) -> float:
    start = time.monotonic()
    while time.time() % 1 > 0.7:  # start early in a one-second window
        await asyncio.sleep(0.05)
    for limiter in (*limiters, limiters[0]):
        await limiter.wait("packet", "203.0.113.5", 2)
    return time.monotonic() - start


def test_the_in_process_limit_holds_the_third_probe_to_the_next_second() -> None:
    limiter = LocalLimiter(Rates())
    assert asyncio.run(_three_waits([limiter, limiter])) >= 0.25


def test_two_scanners_share_the_rate_through_redis() -> None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        need_service("Redis at 127.0.0.1:6379")

    async def main() -> float:
        first = RedisLimiter("redis://127.0.0.1:6379/15", Rates())
        second = RedisLimiter("redis://127.0.0.1:6379/15", Rates())
        try:
            return await _three_waits([first, second])
        finally:
            await first.close()
            await second.close()

    # Two processes' limiters, one budget: the third probe of the second waits.
    assert asyncio.run(main()) >= 0.25


@pytest.mark.parametrize("spec", ["", "evil.example"])
def test_nothing_outside_the_registry(spec: str, sqlite_store: object) -> None:
    with sqlite_store.session() as session, pytest.raises(scan.TargetRefused):  # type: ignore[attr-defined]
        scan.resolve_target(session, spec, allow_private=True)
