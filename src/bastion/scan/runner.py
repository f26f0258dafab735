"""Run the checks against targets, concurrently across hosts, one module at a time per host.

Each host gets a ``Probe``; ``ports`` runs first (the others look at what it
found), then every other chosen check, each inside the host's module lock. A
check that raises is reported as an error for that host and check; the others go
on. At most ``max_connections`` connections are open at once, across hosts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bastion.scan.checks import CHECKS
from bastion.scan.checks.base import Check, Probe, ScanConfig
from bastion.scan.politeness import LocalLimiter, RedisLimiter
from bastion.scan.targets import Target

HOSTS_AT_ONCE = 64


@dataclass
class HostRun:
    """What running the checks against one target gave."""

    target: Target
    probe: Probe
    results: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def chosen_checks(names: Sequence[str] | None) -> list[Check[Any]]:
    """Return the checks to run: ``names`` (ports always first) or every registered check."""
    wanted = list(CHECKS.names()) if not names else ["ports", *[n for n in names if n != "ports"]]
    return [CHECKS.get(name) for name in dict.fromkeys(wanted)]


async def _run_host(
    target: Target,
    checks: list[Check[Any]],
    config: ScanConfig,
    limiter: LocalLimiter | RedisLimiter,
    shared: dict[str, Any],
    excluded: dict[str, str],
) -> HostRun:
    probe = Probe(target, config, limiter, shared=shared)
    run = HostRun(target, probe)
    try:
        for check in checks:
            reason = excluded.get(check.name) or check.blocked(probe)
            if reason:
                run.skipped[check.name] = reason
                continue
            try:
                async with limiter.module_lock(target.address):
                    run.results[check.name] = await check.run(probe)
            except Exception as exc:
                run.errors[check.name] = f"{type(exc).__name__}: {exc}"
    finally:
        client = probe.cache.pop("http", None)
        if client is not None:
            await client.aclose()
    return run


async def run_hosts(
    targets: Sequence[Target],
    checks: list[Check[Any]],
    config: ScanConfig,
    limiter: LocalLimiter | RedisLimiter,
    excluded: dict[tuple[str, str], dict[str, str]] | None = None,
    hosts_at_once: int = HOSTS_AT_ONCE,
) -> list[HostRun]:
    """Scan ``targets``, ``hosts_at_once`` at a time; return one HostRun per target, in order."""
    gate = asyncio.Semaphore(hosts_at_once)
    shared: dict[str, Any] = {}
    exclusions = excluded or {}

    async def one(target: Target) -> HostRun:
        async with gate:
            return await _run_host(
                target,
                checks,
                config,
                limiter,
                shared,
                exclusions.get((target.org, target.host), {}),
            )

    try:
        return list(await asyncio.gather(*(one(t) for t in targets)))
    finally:
        await limiter.close()
