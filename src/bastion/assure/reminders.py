"""Reminder e-mails: returns due before the cut-off, overdue or missing, and reviews to do.

``send_reminders`` looks at the returns and reviews as of ``today``:

* due: a return not yet published whose deadline is within ``days`` days;
* overdue: a return not yet published whose deadline has passed;
* missing: an organisation asked for a return (by its type) with no DSPT-style
  return for the current period, once the deadline is within ``days`` days;
* review: a review still to do, to its reviewer (their user name when it is an
  e-mail address, else the contacts of the organisations they belong to).

Returns and missing returns go to the organisation's contacts. Each reminder is
sent once: one recorded as sent is not sent again; a failed one is tried again
on the next run. Every send goes through ``bastion.core.delivery`` (with retries),
is recorded in ``assure_reminders`` and is one audit event, whoever ran it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import audit, auth, orgs
from bastion.assure.models import ReminderRow, ReturnRow, ReviewRow
from bastion.assure.national import ASKED, current_period
from bastion.assure.views import period_deadline
from bastion.audit import Actor
from bastion.core.delivery import Message, SmtpConfig, retry, send
from bastion.core.errors import NotFoundError
from bastion.core.timeutil import utcnow


@dataclass(frozen=True)
class Reminder:
    """One reminder to send: to whom, about what."""

    org: str
    period: str
    kind: str  # due:<framework>, overdue:<framework>, missing:dspt, review:<kind>:<reviewer>
    return_id: int | None
    recipients: tuple[str, ...]
    subject: str
    body: str


@dataclass
class ReminderReport:
    sent: list[Reminder] = field(default_factory=list)
    failed: list[tuple[Reminder, str]] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)  # "<org> <kind>": no address known


def _contacts(session: Session, codes: set[str]) -> dict[str, tuple[str, ...]]:
    """Each organisation's contact addresses, asked 500 codes at a time (SQL's parameter limit)."""
    ordered, found = sorted(codes), {}
    for start in range(0, len(ordered), 500):
        listed, _ = orgs.list_organisations(session, codes=ordered[start : start + 500])
        found.update({o.code: tuple(c.email for c in o.contacts) for o in listed})
    return found


def _reviewer_addresses(session: Session, reviewer: str) -> tuple[str, ...]:
    if "@" in reviewer:
        return (reviewer,)
    try:
        memberships = auth.get_user(session, reviewer).memberships
    except NotFoundError:
        return ()
    return tuple(a for code, _ in memberships for a in _contacts(session, {code}).get(code, ()))


def pending(session: Session, today: date, days: int, deadline_day: str) -> Iterator[Reminder]:
    """Yield the reminders due ``today`` that were not sent already (recipients may be empty)."""
    done = set(session.execute(select(ReminderRow.org_code, ReminderRow.period, ReminderRow.kind)
                               .where(ReminderRow.status == "sent")).all())  # fmt: skip
    horizon = today + timedelta(days=days)
    unpublished = session.execute(
        select(ReturnRow.id, ReturnRow.org_code, ReturnRow.period, ReturnRow.framework,
               ReturnRow.deadline)
        .where(ReturnRow.published_at.is_(None), ReturnRow.deadline <= horizon)
        .order_by(ReturnRow.org_code, ReturnRow.id)
    ).all()  # fmt: skip
    period = current_period(today)
    deadline = period_deadline(period, deadline_day)
    asked: list[str] = []
    if deadline <= horizon:
        listed, _ = orgs.list_organisations(session)
        have = set(session.scalars(select(ReturnRow.org_code).where(
            ReturnRow.period == period, ReturnRow.framework.like("dspt@%"))))  # fmt: skip
        asked = [o.code for o in listed if o.type.value in ASKED and o.code not in have]
    reviews = session.execute(
        select(ReviewRow.kind, ReviewRow.reviewer, ReturnRow.id, ReturnRow.org_code,
               ReturnRow.period, ReturnRow.framework)
        .join(ReturnRow, ReturnRow.id == ReviewRow.return_id).where(ReviewRow.state == "to_do")
        .order_by(ReturnRow.id, ReviewRow.id)
    ).all()  # fmt: skip
    contacts = _contacts(session, {r.org_code for r in unpublished} | set(asked))
    for rid, org, per, framework, due in unpublished:
        late = due < today
        kind = f"{'overdue' if late else 'due'}:{framework.partition('@')[0]}"
        if (org, per, kind) not in done:
            when = f"was due {due} and is overdue" if late else f"is due by {due}"
            yield Reminder(org, per, kind, rid, contacts.get(org, ()),
                           f"{org}: your {framework} return for {per} {when}",
                           f"The {framework} self-assessment return of {org} for {per} {when}.\n"
                           f"Complete and publish it at /assure/returns/{rid}.")  # fmt: skip
    for org in asked:
        if (org, period, "missing:dspt") not in done:
            yield Reminder(org, period, "missing:dspt", None, contacts.get(org, ()),
                           f"{org}: no data security return for {period} yet (due {deadline})",
                           f"{org} has not started its data security self-assessment for {period}.\n"
                           f"The deadline is {deadline}.")  # fmt: skip
    for kind, reviewer, rid, org, per, framework in reviews:
        key = f"review:{kind}:{reviewer}"[:80]
        if (org, per, key) not in done:
            yield Reminder(org, per, key, rid, _reviewer_addresses(session, reviewer),
                           f"Review requested: the {kind} review of {org}'s {framework} return",
                           f"{reviewer}, you are asked for the {kind} review of {org}'s {framework} "
                           f"return for {per}.\nOpen it at /assure/returns/{rid}.")  # fmt: skip


def send_reminders(
    session: Session,
    smtp: SmtpConfig,
    *,
    actor: Actor,
    today: date | None = None,
    days: int = 30,
    deadline_day: str = "06-30",
    attempts: int = 3,
    backoff: float = 1.0,
) -> ReminderReport:
    """Send every reminder due ``today`` (see the module's docstring); record and audit each."""
    report = ReminderReport()
    for reminder in list(pending(session, today or utcnow().date(), days, deadline_day)):
        if not reminder.recipients:
            report.unreachable.append(f"{reminder.org} {reminder.kind}")
            continue
        message = Message(reminder.recipients, reminder.subject, reminder.body)
        error, tries = retry(lambda m=message: send(smtp, m), attempts=attempts, backoff=backoff)  # type: ignore[misc]
        status = "failed" if error else "sent"
        recipient = ", ".join(reminder.recipients)
        session.add(ReminderRow(org_code=reminder.org, period=reminder.period, kind=reminder.kind,
                                return_id=reminder.return_id, recipient=recipient[:500],
                                status=status, attempts=tries, error=(error or "")[:500]))  # fmt: skip
        target = (
            f"return:{reminder.return_id}" if reminder.return_id else f"organisation:{reminder.org}"
        )
        audit.record(session, actor, "assure.reminder.send", target, org=reminder.org,
                     after={"kind": reminder.kind, "period": reminder.period, "to": recipient,
                            "status": status, "attempts": tries, "error": error})  # fmt: skip
        if error:
            report.failed.append((reminder, error))
        else:
            report.sent.append(reminder)
    session.flush()
    return report
