"""Every way cases reach the alert store, in one module.

Cases hold alerts by integer id; what an alert says (its organisation, title,
severity, indicator) and which alerts belong together come from the alert
store's public functions, asked here and nowhere else in ``bastion.cases``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bastion.alerts import (
    GroupNotice,
    get_alert,
    groups_to_notify,
    list_alerts,
    record_notice,
    response_metrics,
)
from bastion.alerts.grouping import group_members
from bastion.core.errors import NotFoundError
from bastion.core.records import from_row
from bastion.core.settings import Settings

# How many alerts of one indicator a campaign reads to count organisations.
CAMPAIGN_ALERTS = 10_000


@dataclass(frozen=True)
class LinkedAlert:
    """What a case shows of an alert."""

    id: int
    org: str | None
    title: str
    severity: str
    verdict: str  # blocked or live
    state: str  # triage: new, acknowledged, in_progress, closed
    group_id: int | None
    indicator_type: str | None
    indicator_value: str | None
    first_seen: datetime
    created_at: datetime


def linked_alert(session: Session, alert_id: int, codes: Sequence[str] | None) -> LinkedAlert:
    """Return alert ``alert_id`` if ``codes`` (None: every organisation) may see it; else 404."""
    alert = get_alert(session, alert_id, orgs=codes)
    return from_row(LinkedAlert, alert, severity=alert.severity.value)


def alert_group(session: Session, alert_id: int, codes: Sequence[str] | None) -> list[LinkedAlert]:
    """Return the alerts of ``alert_id``'s group that ``codes`` may see (the alert first)."""
    first = linked_alert(session, alert_id, codes)
    if first.group_id is None:
        return [first]
    others = [a for a in group_members(session, first.group_id) if a != first.id]
    return [first, *linked_alerts(session, others, codes)]


def linked_alerts(
    session: Session, alert_ids: Sequence[int], codes: Sequence[str] | None
) -> list[LinkedAlert]:
    """Return the alerts of ``alert_ids`` that ``codes`` may see, in the order given."""
    found = []
    for alert_id in alert_ids:
        try:
            found.append(linked_alert(session, alert_id, codes))
        except NotFoundError:
            continue
    return found


def sightings(session: Session, indicator: str, codes: Sequence[str] | None) -> int:
    """Return how many alerts the indicator (``domain:bad.example``) raised within ``codes``."""
    return list_alerts(session, key=indicator, orgs=codes, limit=0)[1]


def organisations_alerted(session: Session, indicator: str) -> Counter[str]:
    """Return how many alerts the indicator raised at each organisation (every one)."""
    found, _ = list_alerts(session, key=indicator, limit=CAMPAIGN_ALERTS)
    return Counter(a.org for a in found if a.org)


@dataclass(frozen=True)
class AlertResponse:
    """How fast alerts were answered (from the alert store's triage history), for one scope."""

    org: str | None  # None: the whole federation
    alerts: int
    acknowledged: int
    closed: int
    mtta_seconds: float | None
    mttr_seconds: float | None
    urgent: int  # high and critical alerts
    urgent_within_target: int
    share_within_target: float | None
    ack_target_seconds: float


def alert_response(
    session: Session,
    since: datetime,
    until: datetime,
    codes: Sequence[str] | None,
    settings: Settings | None = None,
) -> list[AlertResponse]:
    """Return MTTA/MTTR of the alerts created in the period: nationally, or per organisation."""
    found = []
    for org in [None] if codes is None else list(codes):
        metrics = response_metrics(session, since, until, org, settings=settings)
        found.append(
            AlertResponse(
                org=metrics.org, alerts=metrics.overall.alerts,
                acknowledged=metrics.overall.acknowledged, closed=metrics.overall.closed,
                mtta_seconds=metrics.overall.mtta_seconds, mttr_seconds=metrics.overall.mttr_seconds,
                urgent=metrics.urgent, urgent_within_target=metrics.urgent_within_target,
                share_within_target=metrics.share_within_target,
                ack_target_seconds=metrics.ack_target.total_seconds(),
            )
        )  # fmt: skip
    return found


def urgent_groups(session: Session, since: datetime) -> list[GroupNotice]:
    """Return the new high or critical alert groups (since ``since``) not yet notified."""
    return groups_to_notify(session, since=since)


def record_group_notice(
    session: Session, group_id: int, channel: str, recipient: str, outcome: str
) -> None:
    """Record a notification about an alert group in its first alert's history."""
    record_notice(session, group_id, channel, recipient, outcome)
