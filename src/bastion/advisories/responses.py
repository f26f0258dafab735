"""Responses: each organisation acknowledges, judges applicability, remediates and closes.

Every function takes a list of organisations, so someone responsible for several
can respond for all of them at once; every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import audit, orgs
from bastion.advisories.alerts import (
    Target,
    alert_message,
    alert_row,
    current_version,
    version_content,
)
from bastion.advisories.models import ActionRow, ActionUpdateRow, AlertRow, ResponseRow
from bastion.advisories.notify import SmtpConfig, notify_organisation
from bastion.advisories.policy import Policy
from bastion.audit import Actor
from bastion.core.choices import Choice
from bastion.core.errors import ConflictError, InputError, NotFoundError
from bastion.core.records import from_row, must_exist
from bastion.core.timeutil import as_utc, utcnow
from bastion.core.types import org_code


class Applicability(Choice):
    APPLICABLE = "applicable"
    NOT_APPLICABLE = "not_applicable"
    UNDER_INVESTIGATION = "under_investigation"


ACTION_STATUSES = ("planned", "in_progress", "done")


@dataclass(frozen=True)
class Response:
    alert: str
    organisation: str
    status: str
    notified_at: datetime
    notified_version: int
    ack_due: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    applicability: str | None
    remediation_due: datetime | None
    remediated_at: datetime | None
    next_update_due: datetime | None
    closed_at: datetime | None
    actions: tuple[dict[str, object], ...] = ()


def _state(row: ResponseRow) -> dict[str, object]:
    return {
        "status": row.status, "acknowledged_at": row.acknowledged_at, "applicability": row.applicability,
        "next_update_due": row.next_update_due, "remediated_at": row.remediated_at, "closed_at": row.closed_at,
    }  # fmt: skip


def _responses(session: Session, ref: str, codes: list[str]) -> tuple[AlertRow, list[ResponseRow]]:
    alert = alert_row(session, ref)
    if not codes:
        msg = "name at least one organisation (--org)"
        raise InputError(msg)
    wanted = [org_code(c) for c in codes]
    rows = list(
        session.scalars(
            select(ResponseRow).where(
                ResponseRow.alert_id == alert.id, ResponseRow.org_code.in_(wanted)
            )
        )
    )
    missing = sorted(set(wanted) - {r.org_code for r in rows})
    if missing:
        msg = f"alert {alert.ref} did not reach {', '.join(missing)}"
        raise NotFoundError(msg)
    return alert, sorted(rows, key=lambda r: r.org_code)


def _record(
    session: Session,
    actor: Actor,
    action: str,
    alert: AlertRow,
    changes: list[tuple[ResponseRow, dict[str, object]]],
    extra: dict[str, object] | None = None,
) -> None:
    """Record one call's change to one or more organisations' responses as one audit event.

    Before and after map each organisation onto its response's state; the
    event belongs to the organisation when there is just one.
    """
    codes = [row.org_code for row, _ in changes]
    audit.record(
        session,
        actor,
        action,
        f"advisory:{alert.ref}",
        org=codes[0] if len(codes) == 1 else None,
        before={row.org_code: before for row, before in changes},
        after={**{row.org_code: _state(row) for row, _ in changes}, **(extra or {})},
    )


def acknowledge(
    session: Session, ref: str, codes: list[str], *, actor: Actor, now: datetime | None = None
) -> list[Response]:
    """Acknowledge the alert for each organisation (again is a no-op, not an error); audited."""
    alert, rows = _responses(session, ref, codes)
    moment = now or utcnow()
    changes = []
    for row in rows:
        changes.append((row, _state(row)))
        if row.acknowledged_at is None:
            row.acknowledged_at, row.acknowledged_by = moment, str(actor)
    session.flush()
    _record(session, actor, "advisory.acknowledge", alert, changes)
    return [_domain(session, alert, r) for r in rows]


def set_applicability(
    session: Session,
    ref: str,
    codes: list[str],
    value: str,
    *,
    actor: Actor,
    next_update: datetime | None = None,
    policy: Policy | None = None,
    now: datetime | None = None,
) -> list[Response]:
    """Say whether the alert applies, acknowledging it on the way if not done yet; audited."""
    applicability = Applicability.parse(value)
    alert, rows = _responses(session, ref, codes)
    moment = now or utcnow()
    changes = []
    for row in rows:
        _open(alert, row)
        changes.append((row, _state(row)))
        if row.acknowledged_at is None:
            row.acknowledged_at, row.acknowledged_by = moment, str(actor)
        row.applicability = applicability.value
        if applicability is not Applicability.NOT_APPLICABLE:
            days = (policy or Policy()).next_update_days
            row.next_update_due = next_update or moment + timedelta(days=days)
        else:
            row.next_update_due = None
    session.flush()
    _record(session, actor, "advisory.applicability", alert, changes)
    return [_domain(session, alert, r) for r in rows]


def _open(alert: AlertRow, row: ResponseRow) -> None:
    if row.status == "closed":
        msg = f"the response of {row.org_code} to {alert.ref} is closed"
        raise ConflictError(msg)


def add_action(
    session: Session,
    ref: str,
    codes: list[str],
    description: str,
    *,
    actor: Actor,
    next_update: datetime | None = None,
    status: str = "planned",
) -> list[int]:
    """Record a remediation action for each organisation (audited); return the new action ids."""
    if not description.strip():
        msg = "an action needs a description"
        raise InputError(msg)
    if status not in ACTION_STATUSES:
        msg = f"unknown action status {status!r}; choose one of {', '.join(ACTION_STATUSES)}"
        raise InputError(msg)
    alert, rows = _responses(session, ref, codes)
    ids = []
    changes = []
    for row in rows:
        _open(alert, row)
        changes.append((row, _state(row)))
        action = ActionRow(
            response_id=row.id, description=description.strip(), status=status,
            next_update_due=next_update, created_by=str(actor),
        )  # fmt: skip
        session.add(action)
        if next_update is not None:
            row.next_update_due = next_update
        session.flush()
        ids.append(action.id)
    session.flush()
    extra: dict[str, object] = {
        "actions": ids,
        "description": description.strip(),
        "status": status,
    }
    _record(session, actor, "advisory.action_add", alert, changes, extra)
    return ids


def update_action(
    session: Session,
    action_id: int,
    note: str,
    *,
    status: str,
    actor: Actor,
    next_update: datetime | None = None,
) -> None:
    """Add a progress update to an action, and move its status and next-update date; audited."""
    if status not in ACTION_STATUSES:
        msg = f"unknown action status {status!r}; choose one of {', '.join(ACTION_STATUSES)}"
        raise InputError(msg)
    action = must_exist(session.get(ActionRow, action_id), f"no action {action_id}")
    before = {"status": action.status, "next_update_due": action.next_update_due}
    action.status = status
    if next_update is not None:
        action.next_update_due = next_update
        response = session.get(ResponseRow, action.response_id)
        if response is not None:
            response.next_update_due = next_update
    session.add(
        ActionUpdateRow(action_id=action.id, note=note.strip(), status=status, by=str(actor))
    )
    response_row = session.get(ResponseRow, action.response_id)
    audit.record(
        session,
        actor,
        "advisory.action_update",
        f"action:{action.id}",
        org=response_row.org_code if response_row else None,
        before=before,
        after={"status": status, "next_update_due": action.next_update_due, "note": note.strip()},
    )
    session.flush()


def close(
    session: Session,
    ref: str,
    codes: list[str],
    *,
    actor: Actor,
    remediated: bool = True,
    now: datetime | None = None,
) -> list[Response]:
    """Close the responses: remediated, or not applicable to the organisation; audited."""
    alert, rows = _responses(session, ref, codes)
    moment = now or utcnow()
    changes = []
    for row in rows:
        _open(alert, row)
        if row.acknowledged_at is None or row.applicability is None:
            msg = f"{row.org_code} must acknowledge {alert.ref} and say whether it applies before closing"
            raise ConflictError(msg)
        changes.append((row, _state(row)))
        if remediated and row.applicability == Applicability.APPLICABLE.value:
            row.remediated_at = moment
        row.status, row.closed_at, row.closed_by, row.next_update_due = (
            "closed",
            moment,
            str(actor),
            None,
        )
    session.flush()
    _record(session, actor, "advisory.close", alert, changes)
    return [_domain(session, alert, r) for r in rows]


def _domain(session: Session, alert: AlertRow, row: ResponseRow) -> Response:
    actions = []
    for action in session.scalars(
        select(ActionRow).where(ActionRow.response_id == row.id).order_by(ActionRow.id)
    ):
        updates = [
            {"note": u.note, "status": u.status, "by": u.by, "at": u.at.isoformat()}
            for u in session.scalars(
                select(ActionUpdateRow)
                .where(ActionUpdateRow.action_id == action.id)
                .order_by(ActionUpdateRow.id)
            )
        ]
        actions.append(
            {
                "id": action.id, "description": action.description, "status": action.status,
                "next_update_due": action.next_update_due.isoformat() if action.next_update_due else None,
                "updates": updates,
            }
        )  # fmt: skip
    return from_row(
        Response, row, alert=alert.ref, organisation=row.org_code, actions=tuple(actions)
    )


def list_responses(
    session: Session, ref: str | None = None, org: str | None = None
) -> list[Response]:
    """Return responses of one alert or one organisation (or all)."""
    query = select(ResponseRow, AlertRow).join(AlertRow, AlertRow.id == ResponseRow.alert_id)
    if ref is not None:
        query = query.where(AlertRow.ref == alert_row(session, ref).ref)
    if org is not None:
        query = query.where(ResponseRow.org_code == org_code(org))
    query = query.order_by(AlertRow.id, ResponseRow.org_code)
    return [_domain(session, alert, row) for row, alert in session.execute(query)]


# --- escalation --------------------------------------------------------------------


@dataclass(frozen=True)
class Overdue:
    alert: str
    organisation: str
    what: str  # acknowledgement, remediation, update
    due: datetime


def overdue_reasons(row: ResponseRow, now: datetime) -> list[tuple[str, datetime]]:
    """What an open response is late with at ``now``."""
    if row.status == "closed":
        return []
    late = []
    if row.acknowledged_at is None and row.ack_due is not None and as_utc(row.ack_due) < now:
        late.append(("acknowledgement", row.ack_due))
    if (
        row.applicability != Applicability.NOT_APPLICABLE.value
        and row.remediation_due is not None
        and as_utc(row.remediation_due) < now
    ):
        late.append(("remediation", row.remediation_due))
    if row.next_update_due is not None and as_utc(row.next_update_due) < now:
        late.append(("update", row.next_update_due))
    return late


def overdue(session: Session, *, now: datetime | None = None) -> list[Overdue]:
    """Return every open response that has missed a deadline."""
    moment = now or utcnow()
    out = []
    query = (
        select(ResponseRow, AlertRow.ref)
        .join(AlertRow, AlertRow.id == ResponseRow.alert_id)
        .where(ResponseRow.status == "open")
        .order_by(AlertRow.id, ResponseRow.org_code)
    )
    for row, ref in session.execute(query):
        out += [Overdue(ref, row.org_code, what, due) for what, due in overdue_reasons(row, moment)]
    return out


def send_reminders(
    session: Session,
    *,
    policy: Policy,
    smtp: SmtpConfig,
    actor: Actor,
    now: datetime | None = None,
) -> list[Overdue]:
    """E-mail the contacts of each organisation with an overdue response, once per reminder period.

    A run that reminds anyone is one audit event (``advisory.remind``) listing
    whom it reminded; a run that reminds nobody changes nothing and records nothing.
    """
    moment = now or utcnow()
    late = overdue(session, now=moment)
    by_response: dict[tuple[str, str], list[Overdue]] = {}
    for item in late:
        by_response.setdefault((item.alert, item.organisation), []).append(item)
    reminded = []
    sent: dict[str, str] = {}
    for (ref, code), items in by_response.items():
        alert = alert_row(session, ref)
        row = session.scalar(
            select(ResponseRow).where(
                ResponseRow.alert_id == alert.id, ResponseRow.org_code == code
            )
        )
        assert row is not None
        if (
            row.last_reminded_at is not None
            and as_utc(row.last_reminded_at) + timedelta(hours=policy.reminder_every_hours) > moment
        ):
            continue
        [org], _ = orgs.list_organisations(session, codes=[code])
        content = version_content(current_version(session, alert))
        lateness = "; ".join(f"{i.what} was due {as_utc(i.due):%Y-%m-%d %H:%M} UTC" for i in items)
        target = Target(org.code, org.name, tuple(c.email for c in org.contacts))
        message = alert_message(alert.ref, alert.version, content, target, "reminder")
        message = type(message)(
            message.recipients, message.subject, f"Overdue: {lateness}\n\n{message.body}"
        )
        notify_organisation(
            session,
            smtp,
            alert_id=alert.id,
            version=alert.version,
            org_code=code,
            kind="reminder",
            message=message,
        )
        row.last_reminded_at = moment
        sent[f"{ref}/{code}"] = lateness
        reminded += items
    session.flush()
    if sent:
        audit.record(session, actor, "advisory.remind", "responses", after={"overdue": sent})
    return reminded
