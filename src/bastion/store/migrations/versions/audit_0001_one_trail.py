"""audit: one trail for every context; the advisories' own audit rows move into it

Each row of ``adv_audit`` becomes a row of ``audit_events``: its target is
``entity:entity_id``, its actor keeps its ``kind:name`` form (a bare name, which
only the command line wrote, becomes ``cli:<name>``), and a response's or an
inventory's organisation becomes the event's organisation. Then ``adv_audit``
is dropped. Going down recreates it from the advisories' events (the trail is
append-only: they stay in ``audit_events`` too, and coming up again adds
none of them twice).

Create Date: 2026-12-06 18:00:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import bastion.store.base
from bastion.store.migrations.helpers import (
    adv_audit_columns,
    create_table,
    drop_table,
)

revision: str = "audit_0001"
down_revision: str | Sequence[str] | None = ("auth_0002", "advisories_0001")

# What the advisories recorded, old names and new, for the way down.
_ADVISORY_ACTIONS = (
    *("alert.", "response.", "action.", "vex.", "inventory.", "advisory."),
    *("vulnerability.", "exposure."),
)

_adv_audit = sa.table(
    "adv_audit",
    sa.column("id", sa.Integer()),
    *(sa.column(c.name, c.type) for c in adv_audit_columns()),
)
_audit_events = sa.table(
    "audit_events",
    sa.column("id", sa.Integer()),
    sa.column("at", bastion.store.base.UtcDateTime(timezone=True)),
    sa.column("actor", sa.String()),
    sa.column("actor_ip", sa.String()),
    sa.column("action", sa.String()),
    sa.column("target", sa.String()),
    sa.column("org_code", sa.String()),
    sa.column("before", sa.JSON()),
    sa.column("after", sa.JSON()),
)


def _org(entity: str, entity_id: str) -> str | None:
    """Return the organisation an advisories row belongs to: ``CC-0001/RAL``, ``RAL/sbom``."""
    if entity == "response" and "/" in entity_id:
        return entity_id.rsplit("/", 1)[1][:16] or None
    if entity in {"inventory", "vex"} and "/" in entity_id:
        return entity_id.split("/", 1)[0][:16] or None
    return None


def _event(row: Any) -> dict[str, Any]:
    actor = row.actor if ":" in row.actor else f"cli:{row.actor}"
    return {
        "at": row.at,
        "actor": actor[:120],
        "actor_ip": "",
        "action": row.action[:64],
        "target": f"{row.entity}:{row.entity_id}"[:200],
        "org_code": _org(row.entity, row.entity_id),
        "before": row.before,
        "after": row.after,
    }


def _key(event: Any) -> tuple[Any, ...]:
    return (event["at"], event["actor"], event["action"], event["target"])


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_adv_audit).order_by(_adv_audit.c.id)).all()
    # Up again after a way down: the events that went down are in the trail still.
    kept = {
        _key(e._mapping)
        for e in bind.execute(sa.select(_audit_events).where(_audit_events.c.actor_ip == "")).all()
    }
    events = [e for e in (_event(r) for r in rows) if _key(e) not in kept]
    if events:
        bind.execute(sa.insert(_audit_events), events)
    drop_table("adv_audit", "at")


def downgrade() -> None:
    create_table(
        "adv_audit",
        *adv_audit_columns(),
        indexes=["at"],
    )
    bind = op.get_bind()
    wanted = sa.or_(
        *(_audit_events.c.action.startswith(p) for p in _ADVISORY_ACTIONS),
        # the advisories' vulnerability imports, before they had a name of their own
        sa.and_(
            _audit_events.c.action == "intel.import", _audit_events.c.target.startswith("intel:")
        ),
    )
    events = bind.execute(sa.select(_audit_events).where(wanted).order_by(_audit_events.c.id)).all()
    back = []
    for e in events:
        entity, _, entity_id = e.target.partition(":")
        back.append(
            {
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "entity": entity[:64],
                "entity_id": entity_id[:64],
                "before": e.before,
                "after": e.after,
            }
        )
    if back:
        bind.execute(sa.insert(_adv_audit), back)
