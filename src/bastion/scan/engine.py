"""Scan now and wait: targets in, findings folded, a report out (the CLI's and scheduler's door).

A run is one ``scan.run`` event in the audit trail (what was scanned, what was held
and why), besides one ``scan.findings`` event per host it folded.

``scan`` applies the rules that come before any packet: the organisation's quiet
hours, and the exclusion list (approved exceptions, a whole host or one check).
It then runs the checks (``bastion.scan.runner``), turns each result into
observations with the store's look-ups (advisories' vulnerability ranges, the
canary hits), and folds them into findings (``bastion.scan.service``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import advisories, audit
from bastion.audit import Actor
from bastion.core.settings import Settings
from bastion.core.timeutil import utcnow
from bastion.scan.checks import DEFAULT_PORTS
from bastion.scan.checks.base import ScanConfig
from bastion.scan.exceptions import active_exceptions
from bastion.scan.models import ScanCanaryHitRow
from bastion.scan.outcome import HostOutcome
from bastion.scan.policy import all_policies, in_window
from bastion.scan.politeness import Rates, limiter
from bastion.scan.runner import HostRun, chosen_checks, run_hosts
from bastion.scan.service import FoldReport, record_outcome
from bastion.scan.targets import Target


def scan_config(settings: Settings, ports: Sequence[int] | None = None) -> ScanConfig:
    """Return the scan configuration the settings give (``ports`` overriding theirs)."""
    return ScanConfig(
        ports=tuple(ports or settings.scan_ports or DEFAULT_PORTS),
        rates=Rates(settings.scan_packet_rate, settings.scan_request_rate),
        connect_timeout=settings.scan_connect_timeout,
        read_timeout=settings.scan_read_timeout,
        banner_wait=settings.scan_banner_wait_seconds,
        user_agent=settings.scan_user_agent,
        backoff_seconds=settings.scan_backoff_seconds,
        trust_ca_file=settings.scan_trust_ca_file,
        canary_dns=settings.scan_canary_dns,
        canary_domain=settings.scan_canary_domain,
        canary_wait=settings.scan_canary_wait_seconds,
        dns_server=settings.scan_dns_server,
        max_connections=settings.scan_max_connections,
    )


class StoreLookups:
    """The look-ups observing asks of the store."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def vulnerabilities(self, products: Sequence[tuple[str, str, str]]) -> list[Any]:
        return list(advisories.software_vulnerabilities(self.session, products))

    def canary_hits(self, tokens: Sequence[str]) -> dict[str, list[str]]:
        if not tokens:
            return {}
        found: dict[str, list[str]] = {}
        for token, qname in self.session.execute(
            select(ScanCanaryHitRow.token, ScanCanaryHitRow.qname).where(
                ScanCanaryHitRow.token.in_(list(tokens))
            )
        ):
            found.setdefault(token, []).append(qname)
        return found


@dataclass
class ScanReport:
    """What one ``scan`` did."""

    scanned: list[str] = field(default_factory=list)  # "ORG host"
    held: dict[str, str] = field(default_factory=dict)  # "ORG host" → why not scanned now
    changes: FoldReport = field(default_factory=FoldReport)
    observations: int = 0
    errors: dict[str, dict[str, str]] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)


def _exclusions(
    session: Session, targets: Sequence[Target], today: Any
) -> tuple[dict[tuple[str, str], dict[str, str]], dict[tuple[str, str], str]]:
    per_check: dict[tuple[str, str], dict[str, str]] = {}
    whole: dict[tuple[str, str], str] = {}
    for org in {t.org for t in targets}:
        for exception in active_exceptions(session, org, today):
            why = f"excluded until {exception.expires_on}: {exception.reason}"
            if exception.check is None:
                whole[(org, exception.host)] = why
            else:
                per_check.setdefault((org, exception.host), {})[exception.check] = why
    return per_check, whole


def fold(session: Session, runs: Sequence[HostRun], *, actor: Actor, now: datetime) -> ScanReport:
    """Observe each host's results and fold them into findings."""
    report = ScanReport()
    lookups = StoreLookups(session)
    for run in runs:
        outcome = HostOutcome(run.target, skipped=dict(run.skipped), errors=dict(run.errors))
        for name, result in run.results.items():
            from bastion.scan.checks import CHECKS

            check = CHECKS.get(name)
            try:
                outcome.observations += check.observe(result, run.probe, lookups)
            except Exception as exc:
                outcome.errors[name] = f"{type(exc).__name__}: {exc}"
                continue
            outcome.covered[name] = check.covers(result, run.probe)
            outcome.results[name] = check.serialise(result)
        label = f"{run.target.org} {run.target.host}"
        report.scanned.append(label)
        report.observations += len(outcome.observations)
        report.results[label] = outcome.results
        if outcome.errors:
            report.errors[label] = outcome.errors
        report.changes.merge(record_outcome(session, outcome, actor=actor, now=now))
    return report


def scan(
    session: Session,
    targets: Sequence[Target],
    settings: Settings,
    *,
    actor: Actor,
    checks: Sequence[str] | None = None,
    ports: Sequence[int] | None = None,
    now: datetime | None = None,
    ignore_quiet_hours: bool = False,
) -> ScanReport:
    """Scan ``targets`` now and fold what is found into findings (flush, no commit)."""
    at = now or utcnow()
    policies = all_policies(session)
    held: dict[str, str] = {}
    ready = []
    per_check, whole = _exclusions(session, targets, at.date())
    for target in targets:
        label = f"{target.org} {target.host}"
        policy = policies.get(target.org)
        if (
            policy
            and not ignore_quiet_hours
            and in_window(policy.quiet_hours, at, settings.scan_timezone)
        ):
            held[label] = f"quiet hours {policy.quiet_hours} ({settings.scan_timezone})"
        elif (target.org, target.host) in whole:
            held[label] = whole[(target.org, target.host)]
        else:
            ready.append(target)
    chosen = chosen_checks(checks)
    runs = asyncio.run(
        run_hosts(
            ready,
            chosen,
            replace(
                scan_config(settings, ports),
                dkim_selectors={o: p.dkim_selectors for o, p in policies.items()},
            ),
            limiter(
                settings.redis_url, Rates(settings.scan_packet_rate, settings.scan_request_rate)
            ),
            per_check,
        )
    )
    report = fold(session, runs, actor=actor, now=at)
    report.held = held
    audit.record(
        session,
        actor,
        "scan.run",
        f"scan-run:{at.isoformat()}",
        after={
            "scanned": report.scanned,
            "held": held,
            "checks": [c.name for c in chosen],
            "opened": len(report.changes.opened),
            "closed": len(report.changes.closed),
        },
    )
    return report
