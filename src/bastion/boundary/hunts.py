"""Hunts from the console and the API, and hunts saved by name.

``run_hunt`` and ``export_hunt`` run a hunt in the sandbox (``boundary.sandbox``)
and record who ran which query: the archive holds every organisation's events, so
each look into it is on the audit trail. Saved hunts are a hunt's SQL kept under a
name, private to its owner or shared with every hunter; each save and delete
records one audit event. Another's private hunt is not found, exactly as an absent one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.audit import Actor
from bastion.boundary.models import SavedHuntRow
from bastion.boundary.sandbox import DOWNLOAD_ROWS, HuntPage, SandboxLimits, run_sandboxed
from bastion.core.errors import InputError
from bastion.core.records import from_row, must_exist
from bastion.core.timeutil import utcnow

MAX_SQL = 20_000  # characters of a saved hunt's query
MAX_NAME = 200


@dataclass(frozen=True)
class SavedHunt:
    id: int
    name: str
    sql: str
    owner: str
    shared: bool
    created_at: datetime
    updated_at: datetime


def run_hunt(
    session: Session,
    actor: Actor,
    root: Path,
    sql: str,
    *,
    limits: SandboxLimits,
    limit: int,
    offset: int = 0,
) -> HuntPage:
    """Run ``actor``'s hunt in the sandbox; return one page of it, its run on the trail."""
    _check_sql(sql)
    audit.record(session, actor, "hunt.run", "archive:events", after={"sql": sql, "offset": offset})
    return run_sandboxed(root, sql, limits=limits, limit=limit, offset=offset)


def export_hunt(
    session: Session, actor: Actor, root: Path, sql: str, *, limits: SandboxLimits
) -> HuntPage:
    """Run ``actor``'s hunt for a download: up to ``DOWNLOAD_ROWS`` rows, on the trail."""
    _check_sql(sql)
    audit.record(session, actor, "hunt.export", "archive:events", after={"sql": sql})
    return run_sandboxed(root, sql, limits=limits, limit=DOWNLOAD_ROWS)


def _check_sql(sql: str) -> None:
    if not sql.strip() or len(sql) > MAX_SQL:
        msg = f"a hunt is one SELECT over `events`, of 1 to {MAX_SQL:,} characters"
        raise InputError(msg)


def _visible(owner: str) -> object:
    return or_(SavedHuntRow.owner == owner, SavedHuntRow.shared.is_(True))


def _visible_row(session: Session, hunt_id: int, viewer: Actor) -> SavedHuntRow:
    """Return saved hunt ``hunt_id`` if ``viewer`` owns it or it is shared; else not found."""
    row = session.scalars(
        select(SavedHuntRow).where(SavedHuntRow.id == hunt_id, _visible(str(viewer)))  # type: ignore[arg-type]
    ).first()
    return must_exist(row, f"no saved hunt {hunt_id}")


def list_saved_hunts(session: Session, viewer: Actor) -> list[SavedHunt]:
    """Return the hunts ``viewer`` saved and those others shared, by name."""
    rows = session.scalars(
        select(SavedHuntRow)
        .where(_visible(str(viewer)))  # type: ignore[arg-type]
        .order_by(SavedHuntRow.name, SavedHuntRow.id)
    )
    return [from_row(SavedHunt, r) for r in rows]


def get_saved_hunt(session: Session, hunt_id: int, viewer: Actor) -> SavedHunt:
    """Return the saved hunt ``hunt_id`` if ``viewer`` owns it or it is shared."""
    return from_row(SavedHunt, _visible_row(session, hunt_id, viewer))


def save_hunt(session: Session, actor: Actor, name: str, sql: str, *, shared: bool) -> SavedHunt:
    """Keep ``sql`` under ``name`` for ``actor`` (and every hunter when ``shared``)."""
    name, sql = name.strip(), sql.strip()
    if not name or len(name) > MAX_NAME:
        msg = f"a saved hunt needs a name of 1 to {MAX_NAME} characters"
        raise InputError(msg)
    _check_sql(sql)
    now = utcnow()
    row = SavedHuntRow(
        name=name, sql=sql, owner=str(actor), shared=shared, created_at=now, updated_at=now
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "hunt.save",
        f"saved_hunt:{row.id}",
        after={"name": name, "sql": sql, "shared": shared},
    )
    return from_row(SavedHunt, row)


def delete_saved_hunt(session: Session, actor: Actor, hunt_id: int) -> None:
    """Delete saved hunt ``hunt_id``: the owner's own, or a shared one (the hunters' common
    property); another's private hunt is not found."""
    row = _visible_row(session, hunt_id, actor)
    before = {"name": row.name, "sql": row.sql, "shared": row.shared, "owner": row.owner}
    session.delete(row)
    audit.record(session, actor, "hunt.delete", f"saved_hunt:{hunt_id}", before=before)
