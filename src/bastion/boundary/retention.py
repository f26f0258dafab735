"""Retention of the event archive: whole days past the limit go, unless a legal hold keeps them.

``archive_retention_days`` (unset: keep everything) says how long events are kept. A
day partition goes once its whole day ended that many days ago; ``day=unknown``
(events without a time) is never removed by the clock.

A legal hold keeps an organisation's days (all of them, or a range) whatever their
age: in a day otherwise past the limit, the partitions of held organisations stay
and every other organisation's go; the day's staging area (batches not compacted
yet, several organisations to a file) stays whole while any organisation of that day
is held. Holds are set and cleared through this module only, audited.

Every deletion is recorded in the one audit trail (``archive.retention``, one event
per day, naming what went and what a hold kept) and committed before the files are
removed: a crash between the two leaves an audited deletion that the next run
finishes (and records again), never an unrecorded one. Run it under the maintenance
lease (``boundary.lease``): it deletes what a compaction may be reading.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.audit import Actor, record
from bastion.boundary.archive import DAY, NO_ORG, ORG, STAGING, UNSAFE_CHARS
from bastion.boundary.models import ArchiveHoldRow
from bastion.core.errors import InputError, NotFoundError
from bastion.core.records import from_row
from bastion.core.timeutil import as_utc, utcnow
from bastion.orgs import get_organisation
from bastion.store import Store


@dataclass(frozen=True)
class Hold:
    """A legal hold on an organisation's archived days (``None`` ends: open-ended)."""

    id: int
    org_code: str
    first_day: date | None
    last_day: date | None
    reason: str
    created_by: str
    created_at: datetime

    def covers(self, day: date) -> bool:
        return (self.first_day is None or self.first_day <= day) and (
            self.last_day is None or day <= self.last_day
        )


@dataclass
class RetentionReport:
    """What a retention run removed and kept."""

    keep_days: int
    cutoff: datetime  # days that ended at or before this are past the limit
    days_removed: list[str] = field(default_factory=list)
    days_partly_kept: list[str] = field(default_factory=list)  # a hold kept some of it
    files_removed: int = 0
    partitions_kept: int = 0


def add_hold(
    session: Session,
    org: str,
    *,
    reason: str,
    actor: Actor,
    first_day: date | None = None,
    last_day: date | None = None,
) -> Hold:
    """Put a legal hold on organisation ``org``'s archived days (between the days given)."""
    if not reason.strip():
        msg = "a legal hold needs a reason (--reason)"
        raise InputError(msg)
    if first_day and last_day and last_day < first_day:
        msg = f"hold ends ({last_day}) before it starts ({first_day})"
        raise InputError(msg)
    code = get_organisation(session, org).code
    row = ArchiveHoldRow(
        org_code=code,
        first_day=first_day,
        last_day=last_day,
        reason=reason.strip(),
        created_by=str(actor)[:120],
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    hold = from_row(Hold, row)
    record(
        session,
        actor,
        "archive.hold_add",
        f"archive-hold:{hold.id}",
        org=code,
        after={"first_day": first_day, "last_day": last_day, "reason": hold.reason},
    )
    return hold


def clear_hold(session: Session, hold_id: int, actor: Actor) -> Hold:
    """Lift legal hold ``hold_id``; its days are then subject to retention again."""
    row = session.get(ArchiveHoldRow, hold_id)
    if row is None:
        msg = f"no legal hold {hold_id}; see `bastion archive holds list`"
        raise NotFoundError(msg)
    hold = from_row(Hold, row)
    session.delete(row)
    record(
        session,
        actor,
        "archive.hold_clear",
        f"archive-hold:{hold.id}",
        org=hold.org_code,
        before={"first_day": hold.first_day, "last_day": hold.last_day, "reason": hold.reason},
    )
    session.flush()
    return hold


def list_holds(session: Session) -> list[Hold]:
    """Return every legal hold, oldest first."""
    rows = session.scalars(select(ArchiveHoldRow).order_by(ArchiveHoldRow.id))
    return [from_row(Hold, r) for r in rows]


def _day_of(directory: Path) -> date | None:
    try:
        return date.fromisoformat(directory.name.removeprefix(f"{DAY}="))
    except ValueError:
        return None  # day=unknown: a person decides


def _files(directory: Path) -> int:
    return sum(1 for _ in directory.rglob("*.parquet"))


def _plan(directory: Path, held: set[str]) -> tuple[list[Path], list[str]]:
    """Return the partitions of a day past the limit to remove, and the organisations kept."""
    if not held:
        return [directory], []
    partitions = sorted(p for p in directory.glob(f"{ORG}=*") if p.is_dir())
    names = {p: p.name.removeprefix(f"{ORG}=") for p in partitions}
    kept = {p for p, name in names.items() if name in held or (name == STAGING and _files(p))}
    return [p for p in partitions if p not in kept], sorted(names[p] for p in kept)


def apply_retention(
    store: Store, root: Path, *, keep_days: int, actor: Actor, now: datetime | None = None
) -> RetentionReport:
    """Remove archived days that ended ``keep_days`` ago or more, but what legal holds keep."""
    if keep_days < 0:
        msg = f"archive retention must be 0 days or more, not {keep_days}"
        raise InputError(msg)
    cutoff = as_utc(now or datetime.now(UTC)) - timedelta(days=keep_days)
    report = RetentionReport(keep_days=keep_days, cutoff=cutoff)
    if not root.is_dir():
        return report
    doomed: list[Path] = []
    with store.session() as session:
        holds = list_holds(session)
        for directory in sorted(root.glob(f"{DAY}=*")):
            day = _day_of(directory)
            if day is None or not directory.is_dir():
                continue
            if datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1) > cutoff:
                continue
            held = {_partition_value(h.org_code) for h in holds if h.covers(day)}
            remove, kept = _plan(directory, held)
            if not remove:
                report.partitions_kept += len(kept)
                continue
            files = sum(_files(p) for p in remove)
            record(
                session,
                actor,
                "archive.retention",
                f"archive-day:{day.isoformat()}",
                before={
                    "files": files,
                    "partitions": [p.name for p in remove] if kept else ["all"],
                    "kept_for_holds": kept,
                    "keep_days": keep_days,
                },
            )
            doomed.extend(remove)
            report.files_removed += files
            report.partitions_kept += len(kept)
            (report.days_partly_kept if kept else report.days_removed).append(day.isoformat())
    # The trail is committed: now the files go.
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return report


def _partition_value(code: str) -> str:
    """The ``org=`` partition an organisation code is archived under."""
    return re.sub(UNSAFE_CHARS, "_", code) or NO_ORG
