"""The audit trail: every state change (who, what, when, from where, before and after).

Every context records through ``record``; the console, the API and the CLI
read it through ``list_events`` and the exports.

Rows are only ever inserted: this module offers no update or delete, and the
migration installs triggers that make the database refuse both.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.audit.actor import Actor
from bastion.audit.models import AuditRow
from bastion.core.records import from_row
from bastion.core.timeutil import utcnow
from bastion.store.paging import page_of

EXPORT_FIELDS = ("id", "at", "actor", "actor_ip", "action", "target", "org", "before", "after")


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: datetime
    actor: str
    actor_ip: str
    action: str
    target: str
    org: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _to_domain(row: AuditRow) -> AuditEvent:
    return from_row(AuditEvent, row, org=row.org_code)


def _jsonable(value: Any) -> Any:
    """Return ``value`` as JSON can hold it: times as ISO text, enums as their values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def record(
    session: Session,
    actor: Actor,
    action: str,
    target: str,
    *,
    org: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one event to the trail, in the caller's transaction (it commits with the change).

    ``target`` names what changed as ``kind:id`` (``organisation:RAL``,
    ``indicator:domain:bad.example``); ``org`` is the organisation it belongs to.
    """
    session.add(
        AuditRow(
            at=utcnow(),
            actor=str(actor)[:120],
            actor_ip=actor.ip[:64],
            action=action,
            target=target[:200],
            org_code=org.strip().upper() if org else None,
            before=_jsonable(before),
            after=_jsonable(after),
        )
    )
    session.flush()


def list_events(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    org: str | None = None,
    target: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[AuditEvent], int]:
    """Return one page of the trail, newest first, and how many events match in all."""
    query = select(AuditRow)
    if action:
        query = query.where(AuditRow.action.like(f"{action.strip()}%"))
    if actor:
        query = query.where(AuditRow.actor == actor.strip())
    if org:
        query = query.where(AuditRow.org_code == org.strip().upper())
    if target:
        query = query.where(AuditRow.target == target)
    rows, total = page_of(session, query, AuditRow.id.desc(), limit=limit, offset=offset)
    return [_to_domain(r) for r in rows], total


def _plain(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "actor_ip": event.actor_ip,
        "action": event.action,
        "target": event.target,
        "org": event.org,
        "before": event.before,
        "after": event.after,
    }


def export_json(events: list[AuditEvent]) -> str:
    """Render events as a JSON array, oldest first."""
    return json.dumps([_plain(e) for e in sorted(events, key=lambda e: e.id)], indent=2)


def export_csv(events: list[AuditEvent]) -> str:
    """Render events as CSV, oldest first; before and after are JSON in their cells.

    A cell that starts like a formula is prefixed with a quote, so a spreadsheet
    opening the export never runs what an attacker typed into a name.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    for event in sorted(events, key=lambda e: e.id):
        plain = _plain(event)
        row = []
        for name in EXPORT_FIELDS:
            value = plain[name]
            cell = (
                json.dumps(value)
                if isinstance(value, dict)
                else ("" if value is None else str(value))
            )
            if cell[:1] in {"=", "+", "-", "@", "\t", "\r"}:
                cell = "'" + cell
            row.append(cell)
        writer.writerow(row)
    return out.getvalue()
