"""Which new alert groups call for a notification, and the record of each one sent.

A group calls for one when it is open, one of its alerts is high or critical, and
it was created in the period asked about; once notified (any channel, sent or
failed), a ``notify`` entry in the history of the group's first alert says so,
with the channel, the recipient and the outcome, and the group is not notified
again. The sending itself is the cases context's (``bastion.cases.notify``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.alerts.models import AlertHistoryRow, AlertRow
from bastion.alerts.store import OPEN_STATES
from bastion.core.timeutil import as_utc, utcnow

URGENT = ("high", "critical")
_IN_CHUNK = 500


@dataclass(frozen=True)
class GroupNotice:
    """A new high or critical alert group of one organisation, as a notification tells it."""

    group_id: int
    org: str | None
    severity: str  # the highest of its alerts
    verdict: str  # live once any of its alerts is
    alerts: int
    titles: tuple[str, ...]
    first_seen: datetime


def groups_to_notify(session: Session, *, since: datetime) -> list[GroupNotice]:
    """Return the open high or critical groups created since ``since`` not yet notified."""
    rows = session.execute(
        select(
            AlertRow.group_id, AlertRow.org_code, AlertRow.severity, AlertRow.verdict,
            AlertRow.title, AlertRow.first_seen,
        ).where(
            AlertRow.group_id.in_(
                select(AlertRow.group_id).where(
                    AlertRow.created_at >= as_utc(since),
                    AlertRow.severity.in_(URGENT),
                    AlertRow.state.in_(OPEN_STATES),
                )
            )
        )
    ).all()  # fmt: skip
    groups = sorted({r[0] for r in rows if r[0] is not None})
    notified: set[int] = set()
    for start in range(0, len(groups), _IN_CHUNK):
        notified.update(
            session.scalars(
                select(AlertHistoryRow.alert_id).where(
                    AlertHistoryRow.field == "notify",
                    AlertHistoryRow.alert_id.in_(groups[start : start + _IN_CHUNK]),
                )
            )
        )
    members = defaultdict(list)
    for row in rows:
        if row[0] is not None and row[0] not in notified:
            members[row[0]].append(row)
    rank = {"low": 0, "medium": 1, "high": 2, "critical": 3}
    return [
        GroupNotice(
            group_id=group,
            org=found[0][1],
            severity=max((r[2] for r in found), key=lambda s: rank.get(s, -1)),
            verdict="live" if any(r[3] == "live" for r in found) else "blocked",
            alerts=len(found),
            titles=tuple(sorted({r[4] for r in found})),
            first_seen=min(r[5] for r in found),
        )
        for group, found in sorted(members.items())
    ]


def record_notice(
    session: Session, group_id: int, channel: str, recipient: str, outcome: str
) -> None:
    """Record one notification about group ``group_id`` in its first alert's history."""
    session.add(
        AlertHistoryRow(
            alert_id=group_id,
            at=utcnow(),
            actor="system:notify",
            field="notify",
            before=None,
            after=f"{channel} to {recipient}: {outcome}"[:10_000],
            reason=None,
        )
    )
    session.flush()
