"""Alert triage: acknowledge, assign, close, annotate and split, each change audited.

Every function here is the one door its change goes through: it writes the new
value, one ``alert_history`` row per field that changed (who, when, from, to, why)
and exactly one audit event per alert changed, with the caller's ``Actor``.

States move ``new → acknowledged → in_progress → closed``: acknowledging takes a
new alert to acknowledged; assigning an open alert to someone takes it to
in progress (an assignee works on it); closing needs a resolution and is allowed
from every open state. A closed alert is not reopened: new events open a new one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.alerts import rollup
from bastion.alerts.grouping import split_out
from bastion.alerts.models import AlertHistoryRow, AlertRow
from bastion.alerts.store import OPEN_STATES, Alert, Resolution, TriageState, to_domain
from bastion.audit import Actor
from bastion.core.errors import ConflictError, InputError, NotFoundError
from bastion.core.timeutil import utcnow
from bastion.store.membership import one_of

_NOTE_LIMIT = 10_000
_ASSIGNEE_LIMIT = 120


@dataclass(frozen=True)
class Change:
    """One entry of an alert's history."""

    alert_id: int
    at: datetime
    actor: str
    field: str
    before: str | None
    after: str | None
    reason: str | None


def _rows(session: Session, ids: Sequence[int], orgs: Sequence[str] | None) -> list[AlertRow]:
    wanted = sorted(set(ids))
    if not wanted:
        msg = "no alert ids given; name at least one, or select them with a filter"
        raise InputError(msg)
    rows = list(
        session.scalars(select(AlertRow).where(AlertRow.id.in_(wanted)).order_by(AlertRow.id))
    )
    allowed = None if orgs is None else {o.strip().upper() for o in orgs}
    visible = [r for r in rows if allowed is None or r.org_code in allowed]
    missing = sorted(set(wanted) - {r.id for r in visible})
    if missing:
        msg = (
            f"no alert with id {', '.join(map(str, missing))}; list them with `bastion alerts list`"
        )
        raise NotFoundError(msg)
    return visible


def _change(
    session: Session,
    actor: Actor,
    row: AlertRow,
    action: str,
    changes: Mapping[str, tuple[str | None, str | None]],
    reason: str | None,
) -> None:
    """Write the history rows and the one audit event of one alert's change."""
    now = utcnow()
    for field, (before, after) in changes.items():
        session.add(
            AlertHistoryRow(
                alert_id=row.id,
                at=now,
                actor=str(actor)[:120],
                field=field,
                before=before,
                after=after,
                reason=reason,
            )
        )
    row.updated_at = now
    if "state" in changes:
        before, after = changes["state"]
        if before == TriageState.NEW.value and row.acknowledged_at is None:
            row.acknowledged_at = now
            rollup.touch(session, row.created_at)
        if after == TriageState.CLOSED.value and row.closed_at is None:
            row.closed_at = now
            rollup.touch(session, row.created_at)
    audit.record(
        session,
        actor,
        f"alert.{action}",
        f"alert:{row.id}",
        org=row.org_code,
        before={k: v[0] for k, v in changes.items()},
        after={**{k: v[1] for k, v in changes.items()}, **({"reason": reason} if reason else {})},
    )


def _reason(reason: str | None) -> str | None:
    text = (reason or "").strip()
    if len(text) > _NOTE_LIMIT:
        msg = f"the reason is longer than {_NOTE_LIMIT} characters"
        raise InputError(msg)
    return text or None


def acknowledge(
    session: Session,
    actor: Actor,
    ids: Sequence[int],
    *,
    reason: str | None = None,
    orgs: Sequence[str] | None = None,
) -> list[Alert]:
    """Acknowledge the new alerts among ``ids``; return those that changed (others stay)."""
    why = _reason(reason)
    changed = []
    for row in _rows(session, ids, orgs):
        if row.state != TriageState.NEW.value:
            continue
        _change(session, actor, row, "acknowledge", {"state": (row.state, "acknowledged")}, why)
        row.state = TriageState.ACKNOWLEDGED.value
        changed.append(row)
    session.flush()
    return [to_domain(r) for r in changed]


def assign(
    session: Session,
    actor: Actor,
    ids: Sequence[int],
    assignee: str,
    *,
    reason: str | None = None,
    orgs: Sequence[str] | None = None,
) -> list[Alert]:
    """Assign the open alerts among ``ids`` to a user or a team; they are then in progress."""
    who = assignee.strip()
    if not who or len(who) > _ASSIGNEE_LIMIT:
        msg = f"an assignee is a user's login or a team's name of 1 to {_ASSIGNEE_LIMIT} characters"
        raise InputError(msg)
    why = _reason(reason)
    rows = _rows(session, ids, orgs)
    closed = [r.id for r in rows if r.state == TriageState.CLOSED.value]
    if closed:
        msg = f"alert(s) {', '.join(map(str, closed))} are closed; a closed alert is not reassigned"
        raise ConflictError(msg)
    changed = []
    for row in rows:
        changes: dict[str, tuple[str | None, str | None]] = {}
        if row.assignee != who:
            changes["assignee"] = (row.assignee, who)
        if row.state != TriageState.IN_PROGRESS.value:
            changes["state"] = (row.state, TriageState.IN_PROGRESS.value)
        if not changes:
            continue
        _change(session, actor, row, "assign", changes, why)
        row.assignee, row.state = who, TriageState.IN_PROGRESS.value
        changed.append(row)
    session.flush()
    return [to_domain(r) for r in changed]


def parse_resolution(value: str) -> Resolution:
    """Return the resolution named ``value`` (``false-positive`` works too)."""
    try:
        return Resolution(value.strip().lower().replace("-", "_"))
    except ValueError:
        msg = (
            f"unknown resolution {value!r}; choose one of {', '.join(r.value for r in Resolution)}"
        )
        raise InputError(msg) from None


def close(
    session: Session,
    actor: Actor,
    ids: Sequence[int],
    resolution: Resolution | str,
    *,
    reason: str | None = None,
    orgs: Sequence[str] | None = None,
) -> list[Alert]:
    """Close the open alerts among ``ids`` with ``resolution``; return those that changed."""
    resolved = parse_resolution(str(resolution))
    why = _reason(reason)
    changed = []
    for row in _rows(session, ids, orgs):
        if row.state == TriageState.CLOSED.value:
            continue
        changes = {
            "state": (row.state, TriageState.CLOSED.value),
            "resolution": (row.resolution, resolved.value),
        }
        _change(session, actor, row, "close", changes, why)
        row.state, row.resolution = TriageState.CLOSED.value, resolved.value
        changed.append(row)
    session.flush()
    return [to_domain(r) for r in changed]


def add_note(
    session: Session,
    actor: Actor,
    ids: Sequence[int],
    text: str,
    *,
    orgs: Sequence[str] | None = None,
) -> list[Alert]:
    """Add the note ``text`` to each alert of ``ids``."""
    note = _reason(text)
    if note is None:
        msg = "a note needs some text"
        raise InputError(msg)
    rows = _rows(session, ids, orgs)
    for row in rows:
        _change(session, actor, row, "note", {"note": (None, note)}, None)
    session.flush()
    return [to_domain(r) for r in rows]


def split(
    session: Session,
    actor: Actor,
    alert_id: int,
    *,
    reason: str | None = None,
    orgs: Sequence[str] | None = None,
) -> Alert:
    """Move alert ``alert_id`` out of its group into a group of its own."""
    why = _reason(reason)
    (row,) = _rows(session, [alert_id], orgs)
    members = session.scalar(
        select(AlertRow.id).where(AlertRow.group_id == row.group_id, AlertRow.id != row.id).limit(1)
    )
    if members is None:
        msg = f"alert {alert_id} is alone in its group already"
        raise ConflictError(msg)
    before = row.group_id
    _change(session, actor, row, "split", {"group": (str(before), str(row.id))}, why)
    split_out(session, row)
    return to_domain(row)


def history(session: Session, alert_id: int, *, orgs: Sequence[str] | None = None) -> list[Change]:
    """Return alert ``alert_id``'s history, oldest first (notes included)."""
    _rows(session, [alert_id], orgs)
    rows = session.scalars(
        select(AlertHistoryRow)
        .where(AlertHistoryRow.alert_id == alert_id)
        .order_by(AlertHistoryRow.at, AlertHistoryRow.id)
    )
    return [Change(r.alert_id, r.at, r.actor, r.field, r.before, r.after, r.reason) for r in rows]


def select_ids(
    session: Session,
    *,
    rule: str | None = None,
    indicator: str | None = None,
    org: str | None = None,
    state: str | None = None,
    open_only: bool = True,
    orgs: Sequence[str] | None = None,
) -> list[int]:
    """Return the ids of the alerts a bulk action applies to: by rule, indicator, organisation.

    ``rule`` is a rule's id (``builtin:port-scan``, a Sigma rule's id); ``indicator``
    an indicator's value or ``type:value`` key. At least one filter is needed.
    """
    if not (rule or indicator or org):
        msg = "a bulk action needs a filter: --rule, --indicator or --org"
        raise InputError(msg)
    query = select(AlertRow.id)
    if rule:
        name = rule.strip()
        query = query.where(
            AlertRow.kind == "rule",
            or_(
                AlertRow.key == name,
                AlertRow.key == f"sigma:{name}",
                AlertRow.key.startswith(f"{name}:", autoescape=True),
                AlertRow.key.startswith(f"{name} ", autoescape=True),
                AlertRow.key.startswith(f"sigma:{name} ", autoescape=True),
            ),
        )
    if indicator:
        value = indicator.strip()
        query = query.where(
            AlertRow.kind == "indicator",
            or_(AlertRow.key == value, AlertRow.indicator_value == value),
        )
    if org:
        query = query.where(AlertRow.org_code == org.strip().upper())
    if orgs is not None:
        query = query.where(one_of(AlertRow.org_code, [o.strip().upper() for o in orgs]))
    if state:
        query = query.where(AlertRow.state == state.strip().lower())
    elif open_only:
        query = query.where(AlertRow.state.in_(OPEN_STATES))
    return list(session.scalars(query.order_by(AlertRow.id)))
