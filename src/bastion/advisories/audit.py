"""The audit trail of this context: one function every change goes through.

Kept behind ``record`` so the platform-wide audit trail can take over later by
changing this one function.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.advisories.models import AuditRow
from bastion.core.timeutil import utcnow


def record(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append who did what to which object, with its state before and after."""
    session.add(
        AuditRow(
            at=utcnow(),
            actor=actor,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=_jsonable(before),
            after=_jsonable(after),
        )
    )


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in value.items()}


def trail(
    session: Session, entity: str | None = None, entity_id: str | None = None
) -> list[AuditRow]:
    """Return audit entries, oldest first, optionally of one entity."""
    query = select(AuditRow).order_by(AuditRow.id)
    if entity is not None:
        query = query.where(AuditRow.entity == entity)
    if entity_id is not None:
        query = query.where(AuditRow.entity_id == entity_id)
    return list(session.scalars(query))
