"""Telling organisations what scanning found: a digest of live findings, reminders on a cadence.

* ``send_digests``: one message per organisation with live findings (open, or
  waiting for a confirming rescan): how many of each severity, what is new since
  its last digest, and every live finding, worst first, with its remediation.
* ``send_reminders``: a finding still open N days after it was found or last
  reminded is reminded (Artemis's cadence: 60, 120 and 540 days for high, medium
  and low; critical as high), all of one organisation's due findings in one
  message. A finding's reminder clock restarts only when a channel delivered.

Both go through ``bastion.core.delivery`` (e-mail to the organisation's contacts
and the JSON webhook, each with retries); every try is kept in
``scan_notifications``, and every message is one audit event (``scan.digest`` or
``scan.reminder``) naming its findings and how each channel fared.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bastion import audit, orgs
from bastion.audit import Actor
from bastion.core.delivery import Channels, Delivery, SmtpConfig, deliver
from bastion.core.scope import Scope
from bastion.core.settings import Settings
from bastion.core.types import Severity
from bastion.scan.domain import Finding, Status
from bastion.scan.models import ScanFindingRow, ScanNotificationRow
from bastion.scan.read import LIVE, list_findings, remediation_text, to_finding


@dataclass(frozen=True)
class Cadence:
    """Days a finding stays open before it is reminded, by severity (critical as high)."""

    high: int = 60
    medium: int = 120
    low: int = 540

    def days(self, severity: Severity) -> int | None:
        if severity in (Severity.CRITICAL, Severity.HIGH):
            return self.high
        return {Severity.MEDIUM: self.medium, Severity.LOW: self.low}.get(severity)


@dataclass
class Notice:
    """One message to one organisation and what became of it."""

    org: str
    kind: str  # digest, reminder
    subject: str
    findings: list[int]
    sends: list[Delivery] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return any(s.status == "sent" for s in self.sends)


def _line(finding: Finding, new: bool = False) -> str:
    where = f"{finding.host}" + (f":{finding.port}" if finding.port else "")
    mark = "NEW " if new else ""
    return (
        f"- {mark}[{finding.severity.value}] {finding.title} on {where} "
        f"(finding {finding.id}, {finding.status.value}, first seen {finding.first_seen:%Y-%m-%d})"
    )


def _fix(finding: Finding) -> list[str]:
    text = remediation_text(finding)
    return [f"Finding {finding.id}: {finding.title}", *text.splitlines(), ""]


def _send(
    session: Session,
    channels: Channels,
    notice: Notice,
    body: str,
    payload: dict[str, object],
    *,
    actor: Actor,
    now: datetime,
) -> Notice:
    """Deliver ``notice`` by every channel; record each try and the audit event (flushed)."""
    recipients = orgs.contact_emails(session, notice.org)
    notice.sends = deliver(channels, recipients, notice.subject, body, payload)
    if channels.smtp is not None and not recipients:
        notice.sends.insert(
            0, Delivery("email", "", "failed", 0, "the organisation has no contacts")
        )
    for item in notice.sends:
        session.add(
            ScanNotificationRow(
                org_code=notice.org, kind=notice.kind, channel=item.channel,
                recipient=item.recipient[:500], status=item.status, attempts=item.attempts,
                error=item.error[:500], findings=notice.findings, sent_at=now,
            )
        )  # fmt: skip
    session.flush()
    audit.record(
        session,
        actor,
        f"scan.{notice.kind}",
        f"scan-org:{notice.org}",
        org=notice.org,
        after={"findings": notice.findings, "sends": [asdict(s) for s in notice.sends]},
    )
    return notice


def _last_digest(session: Session, org: str) -> datetime | None:
    row = ScanNotificationRow
    return session.scalar(
        select(func.max(row.sent_at)).where(
            row.org_code == org, row.kind == "digest", row.status == "sent"
        )
    )


def send_digests(
    session: Session,
    channels: Channels,
    *,
    actor: Actor,
    now: datetime,
    codes: Sequence[str] | None = None,
) -> list[Notice]:
    """Send each organisation (of ``codes``, default all) with live findings its digest."""
    if not channels.enabled:
        return []
    found, _ = list_findings(session, Scope.everything())
    live: dict[str, list[Finding]] = {}
    for finding in found:  # worst first
        if finding.status.value in LIVE and (codes is None or finding.org in codes):
            live.setdefault(finding.org, []).append(finding)
    done = []
    for org, mine in sorted(live.items()):
        since = _last_digest(session, org)
        new = {f.id for f in mine if since is None or f.first_seen > since}
        counts = Counter(f.severity.value for f in mine)
        summary = ", ".join(
            f"{counts[s.value]} {s.value}" for s in reversed(Severity) if counts[s.value]
        )
        name = orgs.get_organisation(session, org).name
        subject = f"Scan digest for {name} ({org}): {len(mine)} open finding(s), {len(new)} new"
        body = "\n".join(
            [
                f"What the national centre's scans of {name}'s internet-facing services found, "
                f"as of {now:%Y-%m-%d %H:%M} UTC.",
                f"Open findings: {summary}; {len(new)} new since the last digest.",
                "",
                *(_line(f, f.id in new) for f in mine),
                "",
                "How to fix each one:",
                "",
                *(line for f in mine for line in _fix(f)),
                "When you have fixed a finding, ask for a rescan of it (console or "
                "`bastion scan rescan FINDING`): it closes when the rescan confirms it.",
            ]
        )
        payload: dict[str, object] = {
            "event": "scan_digest", "organisation": org, "subject": subject,
            "by_severity": dict(counts), "new": sorted(new), "findings": [f.id for f in mine],
        }  # fmt: skip
        notice = Notice(org, "digest", subject, [f.id for f in mine])
        done.append(_send(session, channels, notice, body, payload, actor=actor, now=now))
    return done


def due_reminders(session: Session, cadence: Cadence, now: datetime) -> dict[str, list[Finding]]:
    """Return the open findings due a reminder, by organisation, worst first."""
    rows = session.scalars(select(ScanFindingRow).where(ScanFindingRow.status == Status.OPEN.value))
    due: dict[str, list[Finding]] = {}
    for row in rows:
        days = cadence.days(Severity(row.severity))
        if days is not None and now - (row.reminded_at or row.first_seen) >= timedelta(days=days):
            due.setdefault(row.org_code, []).append(to_finding(row))
    for findings in due.values():
        findings.sort(key=lambda f: (-f.severity.rank, f.first_seen))
    return due


def send_reminders(
    session: Session, channels: Channels, cadence: Cadence, *, actor: Actor, now: datetime
) -> list[Notice]:
    """Remind each organisation of its findings open past their cadence (one message each)."""
    if not channels.enabled:
        return []
    done = []
    for org, findings in sorted(due_reminders(session, cadence, now).items()):
        subject = f"Reminder: {len(findings)} scan finding(s) still open for {org}"
        body = "\n".join(
            [
                "These findings are still open. Each was found (or last reminded) longer ago "
                f"than its reminder period ({cadence.high} days for high and critical, "
                f"{cadence.medium} for medium, {cadence.low} for low).",
                "",
                *(f"{_line(f)}, open {(now - f.first_seen).days} days" for f in findings),
                "",
                *(line for f in findings for line in _fix(f)),
            ]
        )
        payload: dict[str, object] = {
            "event": "scan_reminder", "organisation": org, "subject": subject,
            "findings": [f.id for f in findings],
        }  # fmt: skip
        notice = _send(
            session, channels, Notice(org, "reminder", subject, [f.id for f in findings]),
            body, payload, actor=actor, now=now,
        )  # fmt: skip
        if notice.delivered:
            for finding in findings:
                row = session.get(ScanFindingRow, finding.id)
                if row is not None:
                    row.reminded_at = now
            session.flush()
        done.append(notice)
    return done


def channels(settings: Settings, smtp: SmtpConfig | None = None) -> Channels:
    """Return where digests and reminders go: ``smtp`` (else the environment's) and the webhook."""
    return Channels(
        smtp=smtp or SmtpConfig.from_env(),
        webhook_url=settings.scan_webhook_url,
        attempts=settings.scan_notify_attempts,
    )


def cadence(settings: Settings) -> Cadence:
    """Return the reminder cadence the settings give."""
    return Cadence(
        settings.scan_reminder_days_high,
        settings.scan_reminder_days_medium,
        settings.scan_reminder_days_low,
    )
