"""The door of scanning's state: fold a scan's outcome into findings, and the members' requests.

Folding, per target (see ``record_outcome``):

* an observation whose normal form has no finding opens one (``excepted`` when an
  approved exception covers it);
* one that has a finding refreshes its evidence and last-seen time, and reopens it
  if it was ``fixed-unconfirmed`` or ``closed``;
* a finding of a check and port the scan covered but did not observe moves from
  ``open`` to ``fixed-unconfirmed`` and, at the next scan that again does not see
  it (the confirming rescan), to ``closed``. Nothing else closes a finding.

Each folded target is one ``scan.findings`` event in the audit trail, naming the
findings that changed; a new or reopened critical finding raises one alert (source
``scan``) in the alert store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.alerts import ExternalAlert, raise_external
from bastion.audit import Actor
from bastion.core.errors import ConflictError
from bastion.core.scope import Scope
from bastion.core.timeutil import utcnow
from bastion.core.types import Severity
from bastion.scan.domain import Finding, Status
from bastion.scan.exceptions import active_exceptions
from bastion.scan.models import ScanFindingRow, ScanTargetRow
from bastion.scan.outcome import HostOutcome
from bastion.scan.read import finding_row, to_finding

ALERT_SOURCE = "scan"


@dataclass
class FoldReport:
    """What folding one scan changed, by finding id."""

    opened: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    refreshed: list[int] = field(default_factory=list)
    unconfirmed: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    alerts: int = 0

    def merge(self, other: FoldReport) -> None:
        for name in ("opened", "reopened", "refreshed", "unconfirmed", "closed"):
            getattr(self, name).extend(getattr(other, name))
        self.alerts += other.alerts


def _target_row(session: Session, org: str, host: str) -> ScanTargetRow:
    row = session.scalar(
        select(ScanTargetRow).where(ScanTargetRow.org_code == org, ScanTargetRow.host == host)
    )
    if row is None:
        row = ScanTargetRow(org_code=org, host=host, due_reason="", summary={})
        session.add(row)
    return row


def _set_status(row: ScanFindingRow, status: Status, now: datetime) -> None:
    row.status = status.value
    row.status_changed_at = now


def record_outcome(
    session: Session, outcome: HostOutcome, *, actor: Actor, now: datetime
) -> FoldReport:
    """Fold one target's scan outcome into its findings (flush, no commit); audited."""
    target = outcome.target
    report = FoldReport()
    existing = {
        (r.port, r.check_name, r.detail): r
        for r in session.scalars(
            select(ScanFindingRow).where(
                ScanFindingRow.org_code == target.org, ScanFindingRow.host == target.host
            )
        )
    }
    exceptions = active_exceptions(session, target.org, now.date())
    seen: set[tuple[int, str, str]] = set()
    for obs in outcome.observations:
        key = (obs.normal_port, obs.check, obs.detail)
        where = f"{target.address}:{obs.port}"
        excepted = any(e.covers(target.host, obs.check, now.date()) for e in exceptions)
        row = existing.get(key)
        if key in seen and row is not None:  # the same problem on a second port: one finding
            row.seen_at = sorted({*row.seen_at, where})
            continue
        seen.add(key)
        reopened = False
        if row is None:
            row = ScanFindingRow(
                org_code=target.org,
                host=target.host,
                port=obs.normal_port,
                check_name=obs.check,
                detail=obs.detail[:200],
                first_seen=now,
                seen_at=[],
                alert_raised=False,
            )
            _set_status(row, Status.EXCEPTED if excepted else Status.OPEN, now)
            session.add(row)
            existing[key] = row
            new = True
        else:
            new = False
            if excepted and row.status != Status.EXCEPTED:
                _set_status(row, Status.EXCEPTED, now)
            elif not excepted and row.status != Status.OPEN:
                _set_status(row, Status.OPEN, now)
                reopened = True
        row.title = obs.title[:300]
        row.severity = obs.severity.value
        row.remediation = obs.remediation
        row.params = obs.params
        row.evidence = obs.evidence.as_dict()
        row.seen_at = [where] if new else sorted({*row.seen_at, where})
        row.last_seen = now
        session.flush()
        (report.opened if new else report.reopened if reopened else report.refreshed).append(row.id)
        if (
            obs.severity is Severity.CRITICAL
            and row.status == Status.OPEN
            and (new or reopened or not row.alert_raised)
        ):
            report.alerts += _raise_alert(session, row, target.address, now)
    for key, row in existing.items():
        port, check, _ = key
        if key in seen or port not in outcome.covered.get(check, set()):
            continue
        if row.status == Status.OPEN:
            _set_status(row, Status.FIXED_UNCONFIRMED, now)
            report.unconfirmed.append(row.id)
        elif row.status == Status.FIXED_UNCONFIRMED:
            _set_status(row, Status.CLOSED, now)
            report.closed.append(row.id)
    state = _target_row(session, target.org, target.host)
    state.last_scan_at = now
    state.due_at = None
    state.due_reason = ""
    state.summary = {**(state.summary or {}), **outcome.results}
    session.flush()
    audit.record(
        session,
        actor,
        "scan.findings",
        f"scan-host:{target.org}/{target.host}",
        org=target.org,
        after={
            "opened": report.opened,
            "reopened": report.reopened,
            "unconfirmed": report.unconfirmed,
            "closed": report.closed,
            "covered": sorted(outcome.covered),
            "skipped": outcome.skipped,
            "errors": outcome.errors,
        },
    )
    return report


def _raise_alert(session: Session, row: ScanFindingRow, address: str, now: datetime) -> int:
    """Raise one alert for a critical finding (deduplicated on the finding and when it opened)."""
    made = raise_external(
        session,
        [
            ExternalAlert(
                source=ALERT_SOURCE,
                ref=f"finding:{row.id}:{row.status_changed_at.isoformat()}",
                title=f"Scan: {row.title} on {row.host}",
                severity=row.severity,
                created=now,
                device_ip=address,
                hostname=row.host,
                raw=f"{row.check_name} {row.detail} on {row.host}:{row.port}; "
                f"evidence: {row.evidence.get('probe', '')}",
            )
        ],
    )
    row.alert_raised = True
    return made.created


def request_rescan(
    session: Session, scope: Scope, finding_id: int, *, actor: Actor, now: datetime | None = None
) -> Finding:
    """Take a member's "I fixed it": the finding waits, ``fixed-unconfirmed``, for a rescan.

    The host is due at once; the finding closes only when that rescan does not see it.
    """
    row = finding_row(session, scope, finding_id)
    if row.status not in (Status.OPEN.value, Status.FIXED_UNCONFIRMED.value):
        msg = f"finding {finding_id} is {row.status}: only an open finding can be rescanned"
        raise ConflictError(msg)
    at = now or utcnow()
    before = row.status
    _set_status(row, Status.FIXED_UNCONFIRMED, at)
    target = _target_row(session, row.org_code, row.host)
    target.due_at = at
    target.due_reason = f"rescan of finding {row.id} requested by {actor}"[:200]
    session.flush()
    audit.record(
        session,
        actor,
        "scan.finding.rescan",
        f"scan-finding:{row.id}",
        org=row.org_code,
        before={"status": before},
        after={"status": row.status, "due_at": at},
    )
    return to_finding(row)
