"""Notifications about cases: e-mail to the organisations' contacts and a JSON webhook.

Sent when a case is assigned, when a high or critical case opens for an
organisation, when a new high or critical alert group opens for one (recorded in
the group's first alert's history instead), and when a regulatory clock nears
its deadline. Each channel is
tried up to ``attempts`` times (waiting ``backoff`` seconds, doubling, between
tries); every send is recorded in ``case_notifications`` with its attempts and
its last error, whether it went or not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import orgs
from bastion.cases import alertlinks
from bastion.cases.domain import Case, CaseStatus
from bastion.cases.models import CaseNotificationRow, CaseRow
from bastion.cases.read import ClockPolicy, clocks, to_case
from bastion.core.delivery import Channels, Delivery, deliver
from bastion.core.timeutil import utcnow

Notifier = Channels  # where case notifications go, and how hard to try each channel
Sent = Delivery  # one send: channel, recipient, sent or failed, tries, last error


def _payload(case: Case, kind: str, subject: str) -> dict[str, object]:
    return {
        "event": kind, "subject": subject, "case": case.id, "title": case.title,
        "severity": case.severity.value, "status": case.status.value, "owner": case.owner,
        "organisations": list(case.organisations), "tlp": case.tlp.value,
    }  # fmt: skip


def _deliver(
    session: Session,
    notifier: Notifier,
    codes: Sequence[str],
    payload: dict[str, object],
    subject: str,
    body: str,
    record: Callable[[str | None, Sent], None],
) -> list[Sent]:
    """Mail ``codes``' contacts and post ``payload``, with retries; ``record`` each send."""
    sent: list[Sent] = []
    mail, hook = replace(notifier, webhook_url=None), replace(notifier, smtp=None)
    for code in codes if notifier.smtp is not None else ():
        for done in deliver(mail, orgs.contact_emails(session, code), subject, body, payload):
            sent.append(done)
            record(code, done)
    for done in deliver(hook, (), subject, body, payload):
        sent.append(done)
        record(None, done)
    session.flush()
    return sent


def notify(
    session: Session, notifier: Notifier | None, case: Case, kind: str, subject: str, body: str
) -> list[Sent]:
    """Send one notification about ``case`` by every configured channel; record each send."""
    if notifier is None or not notifier.enabled:
        return []
    return _deliver(
        session,
        notifier,
        case.organisations,
        _payload(case, kind, subject),
        subject,
        body,
        lambda code, item: _store(session, case, code, kind, item),
    )


def alert_groups_opened(
    session: Session, notifier: Notifier | None, *, since: datetime
) -> list[tuple[int, list[Sent]]]:
    """Notify each new high or critical alert group (since ``since``) once: its organisation's
    contacts by e-mail and the webhook. Return each group notified with its sends."""
    if notifier is None or not notifier.enabled:
        return []
    done = []
    for group in alertlinks.urgent_groups(session, since):
        subject = (
            f"[{group.severity.upper()}] New alert group {group.group_id} for "
            f"{group.org or 'an unattributed host'} ({group.verdict})"
        )
        body = "\n".join([
            f"A {group.severity} alert group opened: {group.alerts} alert(s), {group.verdict}.",
            f"First seen: {group.first_seen:%Y-%m-%d %H:%M} UTC", "",
            *(f"- {title}" for title in group.titles),
        ])  # fmt: skip
        payload: dict[str, object] = {
            "event": "new_alert_group", "subject": subject, "group": group.group_id,
            "organisation": group.org, "severity": group.severity, "verdict": group.verdict,
            "alerts": group.alerts, "titles": list(group.titles),
        }  # fmt: skip

        def record(_code: str | None, item: Sent, group_id: int = group.group_id) -> None:
            outcome = f"{item.status} after {item.attempts} attempt(s) {item.error}".strip()
            alertlinks.record_group_notice(session, group_id, item.channel, item.recipient, outcome)

        codes = [group.org] if group.org else []
        done.append(
            (group.group_id, _deliver(session, notifier, codes, payload, subject, body, record))
        )
    return done


def _store(session: Session, case: Case, code: str | None, kind: str, item: Sent) -> None:
    session.add(
        CaseNotificationRow(
            case_id=case.id, org_code=code, kind=kind, channel=item.channel,
            recipient=item.recipient[:500], status=item.status, attempts=item.attempts,
            error=item.error[:500], created_at=utcnow(),
        )
    )  # fmt: skip


def _body(case: Case, lead: str) -> str:
    return "\n".join(
        [
            lead,
            "",
            f"Case {case.id}: {case.title}",
            f"Severity: {case.severity.value}   Status: {case.status.value}   TLP:{case.tlp.value}",
            f"Organisations: {', '.join(case.organisations)}",
            f"Owner: {case.owner or 'nobody yet'}",
        ]
    )


def case_opened(session: Session, notifier: Notifier | None, case: Case) -> list[Sent]:
    """Tell the organisations a high or critical case was opened for them (others: nothing)."""
    if case.severity.value not in {"high", "critical"}:
        return []
    subject = f"[{case.severity.value.upper()}] New case {case.id}: {case.title}"
    return notify(session, notifier, case, "new_case", subject, _body(case, "A case was opened."))


def case_assigned(session: Session, notifier: Notifier | None, case: Case) -> list[Sent]:
    """Tell the organisations (and the webhook) who the case is assigned to now."""
    subject = f"Case {case.id} assigned to {case.owner or 'nobody'}: {case.title}"
    return notify(session, notifier, case, "assigned", subject, _body(case, "A case was assigned."))


def sent_notifications(session: Session, case_id: int) -> list[Sent]:
    """Return every notification recorded about a case, oldest first."""
    rows = session.scalars(
        select(CaseNotificationRow)
        .where(CaseNotificationRow.case_id == case_id)
        .order_by(CaseNotificationRow.id)
    )
    return [Sent(r.channel, r.recipient, r.status, r.attempts, r.error) for r in rows]


def remind_clocks(
    session: Session,
    notifier: Notifier | None,
    *,
    policy: ClockPolicy,
    now: datetime | None = None,
) -> list[tuple[int, str]]:
    """Notify each open case whose regulatory clock is within the warning time (once per clock).

    Return the (case, clock) pairs notified.
    """
    from bastion.cases.read import organisations_of

    moment = now or utcnow()
    longest = max(policy.breach_hours, policy.sector_hours)
    candidates = session.scalars(
        select(CaseRow).where(
            CaseRow.status != CaseStatus.CLOSED.value,
            CaseRow.aware_at >= moment - timedelta(hours=longest + 24 * 30),
        )
    ).all()
    done = set(
        session.execute(
            select(CaseNotificationRow.case_id, CaseNotificationRow.kind).where(
                CaseNotificationRow.kind.like("clock:%")
            )
        ).all()
    )
    warning = policy.warning_hours * 3600
    organisations = organisations_of(session, [r.id for r in candidates])
    reminded = []
    for row in candidates:
        for clock in clocks(row, policy, moment):
            kind = f"clock:{clock.clock.value}"
            if (
                clock.reported_at is not None
                or clock.seconds_left > warning
                or (row.id, kind) in done
            ):
                continue
            case = to_case(row, organisations.get(row.id, ()))
            state = "is overdue" if clock.overdue else f"is due {clock.deadline:%Y-%m-%d %H:%M} UTC"
            subject = f"Case {row.id}: {clock.label} {state}"
            notify(session, notifier, case, kind, subject, _body(case, f"{clock.label} {state}."))
            reminded.append((row.id, clock.clock.value))
    return reminded
