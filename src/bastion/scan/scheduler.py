"""When each target is next scanned: its cadence, and rescans that news brings forward.

A host is due when it was never scanned, when its cadence has passed since its
last scan (``scan_cadence_days``, or ``scan_high_risk_cadence_days`` for a
high-risk organisation), or when something brought it forward: a member's
"I fixed it" (``request_rescan``), a national cyber alert published to its
organisation, or a new exposure of its organisation (an SBOM or inventory
matched a vulnerability) since its last scan. ``plan`` is the pure part, over
arrays, so a national schedule of 100,000 hosts plans in well under a second.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import advisories, audit
from bastion.audit import Actor
from bastion.core.scope import Scope
from bastion.core.settings import Settings
from bastion.core.timeutil import as_utc, utcnow
from bastion.scan.models import ScanTargetRow
from bastion.scan.policy import all_policies
from bastion.scan.targets import Target, organisation_targets

NEVER = -1.0


@dataclass(frozen=True)
class Plan:
    """One target due now, and why."""

    target: Target
    reason: str
    overdue_seconds: float


def plan(
    targets: Sequence[Target],
    last_scan: Sequence[float],  # epoch seconds, NEVER for never scanned
    brought_forward: Sequence[str],  # "" or why the target is due now whatever its cadence
    high_risk: Sequence[bool],
    now: float,
    cadence_days: float,
    high_risk_cadence_days: float,
) -> list[Plan]:
    """Return the due targets, most overdue first (never-scanned and brought-forward first)."""
    last = np.asarray(last_scan, dtype=np.float64)
    risky = np.asarray(high_risk, dtype=bool)
    forward = np.asarray([bool(r) for r in brought_forward], dtype=bool)
    period = np.where(risky, high_risk_cadence_days, cadence_days) * 86400.0
    never = last == NEVER
    overdue = np.where(never, np.inf, now - (last + period))
    overdue = np.where(forward, np.maximum(overdue, 1e12), overdue)
    due = np.flatnonzero(overdue >= 0)
    order = due[np.argsort(-overdue[due], kind="stable")]
    plans = []
    for i in order.tolist():
        if forward[i]:
            reason = brought_forward[i]
        elif never[i]:
            reason = "never scanned"
        else:
            reason = (
                f"{'high-risk ' if risky[i] else ''}cadence of {period[i] / 86400:g} days passed"
            )
        plans.append(Plan(targets[i], reason, float(overdue[i])))
    return plans


def _news_since(session: Session, oldest: datetime | None) -> dict[str, str]:
    """Map organisations to the national news since ``oldest`` that should rescan them."""
    news: dict[str, str] = {}
    everyone = Scope.everything()
    alerts, _ = advisories.visible_alerts(session, everyone, status="published")
    for alert in alerts:
        if alert.published_at is None or (oldest and as_utc(alert.published_at) <= oldest):
            continue
        for response in advisories.visible_responses(session, alert.ref, everyone):
            news.setdefault(
                response.organisation,
                f"national cyber alert {alert.ref}|{alert.published_at.isoformat()}",
            )
    for exposure in advisories.list_exposures(session):
        if oldest and as_utc(exposure.matched_at) <= oldest:
            continue
        news.setdefault(
            exposure.organisation,
            f"new exposure to {exposure.vulnerability}|{exposure.matched_at.isoformat()}",
        )
    return news


def due_targets(session: Session, settings: Settings, *, now: datetime | None = None) -> list[Plan]:
    """Return every registered target due for a scan now, most overdue first."""
    at = now or utcnow()
    targets, _ = organisation_targets(session, allow_private=settings.scan_allow_private)
    state = {(r.org_code, r.host): r for r in session.scalars(select(ScanTargetRow))}
    policies = all_policies(session)
    scanned = [s.last_scan_at for s in state.values() if s.last_scan_at]
    news = _news_since(session, min(scanned) if scanned else None)
    last, forward, risky = [], [], []
    for target in targets:
        row = state.get((target.org, target.host))
        previous = as_utc(row.last_scan_at) if row and row.last_scan_at else None
        last.append(previous.timestamp() if previous else NEVER)
        reason = row.due_reason if row and row.due_at and as_utc(row.due_at) <= at else ""
        item = news.get(target.org)
        if not reason and item and previous:
            text, _, when = item.partition("|")
            if datetime.fromisoformat(when).timestamp() > previous.timestamp():
                reason = text
        forward.append(reason)
        policy = policies.get(target.org)
        risky.append(bool(policy and policy.high_risk))
    return plan(
        targets,
        last,
        forward,
        risky,
        at.timestamp(),
        settings.scan_cadence_days,
        settings.scan_high_risk_cadence_days,
    )


def trigger_rescans(
    session: Session,
    codes: Iterable[str],
    reason: str,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> int:
    """Bring every scanned host of the organisations forward to now (audited); return how many."""
    at = now or utcnow()
    wanted = sorted({c.strip().upper() for c in codes})
    rows = list(session.scalars(select(ScanTargetRow).where(ScanTargetRow.org_code.in_(wanted))))
    for row in rows:
        row.due_at = at
        row.due_reason = reason[:200]
    session.flush()
    audit.record(
        session,
        actor,
        "scan.rescan.trigger",
        f"scan-orgs:{','.join(wanted)}"[:200],
        after={"organisations": wanted, "hosts": len(rows), "reason": reason},
    )
    return len(rows)
