"""Evidence Bastion already holds, as findings that answer statements of several frameworks.

Each provider looks at one organisation's telemetry and returns findings: which
statements (``<framework key>:<statement id>``) the evidence says are met or not,
a summary, and a link to the evidence in Bastion. ``PROVIDERS`` is the one list
of them; a provider for another context is one more line in it, a function with
the ``Provider`` signature. The internet-facing scan's provider is in
``bastion.assure.scanned``.

A finding marked ``drift`` is strong enough to contradict a published claim: when
it says a statement is not met while the return published its outcome as met,
``bastion.assure.drift`` flags the return and raises an alert.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bastion import advisories, orgs, passwords
from bastion.alerts import list_alerts, response_metrics
from bastion.assure.evidence import Finding
from bastion.assure.scanned import internet_facing
from bastion.core.registry import Registry
from bastion.core.scope import Scope
from bastion.core.timeutil import as_utc

PATCH_DAYS = 14  # Cyber Essentials: critical and high-risk updates within 14 days
ACK_HOURS = 48  # national cyber alerts are acknowledged within 48 hours
LOOKBACK = timedelta(days=90)


Provider = Callable[[Session, str, datetime], list[Finding]]
"""A provider: ``(session, organisation code, now) -> findings``."""


def boundary_monitoring(session: Session, org: str, now: datetime) -> list[Finding]:
    """Boundary monitoring is in place when networks are registered and events raised alerts lately."""
    organisation = orgs.get_organisation(session, org)
    _, total = list_alerts(session, org=org, since=now - LOOKBACK, limit=1)
    met = bool(organisation.networks) and total > 0
    summary = (
        f"{len(organisation.networks)} network(s) registered; {total} alert(s) from boundary "
        f"events in the last {LOOKBACK.days} days"
    )
    return [
        Finding("boundary", ("dspt:6.1", "ncsc-caf:C1.a.20"), met, summary, f"/alerts?org={org}")
    ]


def alert_response(session: Session, org: str, now: datetime) -> list[Finding]:
    """Urgent alerts acknowledged within the organisation's target (90 % of them)."""
    metrics = response_metrics(session, now - LOOKBACK, now, org)
    if not metrics.urgent or metrics.share_within_target is None:
        return []
    share = metrics.share_within_target
    figures = metrics.overall
    summary = (
        f"{metrics.urgent_within_target}/{metrics.urgent} urgent alerts acknowledged within "
        f"{metrics.ack_target}; MTTA {_minutes(figures.mtta_seconds)}, "
        f"MTTR {_minutes(figures.mttr_seconds)}"
    )
    return [Finding("alert-response", ("dspt:6.4",), share >= 0.9, summary, f"/alerts?org={org}")]


def _minutes(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds / 60:.0f} min"


def advisory_response(session: Session, org: str, now: datetime) -> list[Finding]:
    """National cyber alerts acknowledged within 48 hours, and remediated by their due dates.

    One still unacknowledged past 48 hours, or past its remediation date, is drift: it
    contradicts a published claim that alerts are acknowledged and acted on.
    """
    responses = [r for r in advisories.list_responses(session, org=org)
                 if as_utc(r.notified_at) >= now - LOOKBACK]  # fmt: skip
    if not responses:
        return []
    window = timedelta(hours=ACK_HOURS)
    late = [r for r in responses
            if (as_utc(r.acknowledged_at) if r.acknowledged_at else now) - as_utc(r.notified_at) > window]  # fmt: skip
    unanswered = [r for r in late if r.acknowledged_at is None]
    overdue = [r for r in responses if r.remediation_due and r.remediated_at is None
               and r.status == "open" and as_utc(r.remediation_due) < now]  # fmt: skip
    summary = (
        f"{len(responses) - len(late)}/{len(responses)} national cyber alerts acknowledged within "
        f"{ACK_HOURS} h, {len(unanswered)} still unacknowledged; {len(overdue)} past their "
        f"remediation date"
    )
    met = not late and not overdue
    return [Finding("advisories", ("dspt:6.2",), met, summary, f"/advisories?org={org}",
                    drift=bool(unanswered or overdue))]  # fmt: skip


def password_policy(session: Session, org: str, now: datetime) -> list[Finding]:
    """Compromised passwords are refused: a policy in force and checks made against the store."""
    policy, whose = passwords.get_policy(session, org)
    counts = passwords.check_counts(session, Scope.of([org]), since=(now - LOOKBACK).date())
    checks = sum(c.checks for c in counts)
    met = policy.min_breach_count >= 1 and checks > 0
    summary = (
        f"policy ({whose}) refuses breached passwords; {checks} checks in {LOOKBACK.days} days"
    )
    return [Finding("passwords", ("dspt:4.3", "cyber-essentials:ua.4"), met, summary,
                    f"/passwords?org={org}")]  # fmt: skip


def patch_latency(session: Session, org: str, now: datetime) -> list[Finding]:
    """Critical and high exposures fixed within 14 days; a KEV-listed one open longer is drift."""
    exposures = advisories.list_exposures(session, org=org, status="affected")
    urgent = [e for e in exposures if (e.severity or "").lower() in {"critical", "high"} or e.kev]
    old = [e for e in urgent if now - as_utc(e.matched_at) > timedelta(days=PATCH_DAYS)]
    kev = [e for e in old if e.kev]
    summary = (
        f"{len(urgent)} critical/high exposure(s) open, {len(old)} for more than {PATCH_DAYS} days"
        f" ({len(kev)} known exploited)"
        + (f": {', '.join(sorted({e.vulnerability for e in kev})[:5])}" if kev else "")
    )
    link = f"/advisories/exposures?org={org}"
    statements = ("dspt:8.2", "cyber-essentials:up.2", "ncsc-caf:B4.d.12")
    return [Finding("patching", statements, not old, summary, link, drift=bool(kev))]


PROVIDERS: Registry[Provider] = Registry(
    "evidence provider",
    [
        ("boundary", boundary_monitoring),
        ("alert-response", alert_response),
        ("advisories", advisory_response),
        ("passwords", password_policy),
        ("patching", patch_latency),
        ("scan", internet_facing),
    ],
)


def gather(
    session: Session, org: str, now: datetime, names: tuple[str, ...] | None = None
) -> list[Finding]:
    """Return every provider's findings about ``org`` (or those of ``names``)."""
    found: list[Finding] = []
    for name in names or PROVIDERS.names():
        found += PROVIDERS.get(name)(session, org, as_utc(now))
    return found
