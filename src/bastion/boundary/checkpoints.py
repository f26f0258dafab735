"""Ingest checkpoints: how far each source is read, and which batches are committed.

They make re-ingesting a file a no-op and let a crash resume. Per batch the
pipeline writes the archive files as pending (unseen by readers) and the
dead-letter files, both idempotent by batch id, then in ONE transaction::

    if not batch_done(session, batch_id):
        mark_batch(session, batch_id, source_key=key, events=n, rejects=m)
        record_alerts(session, candidates)
        save_checkpoint(session, key, path=..., format=..., offset=..., size=..., done=...)

and only then publishes the archive files; ``batch_done`` is also what decides
whether a pending file a crash left behind is adopted (``boundary.pending``).

``mark_batch`` goes first and flushes at once: when two workers race on one
redelivered batch, the second fails there with ConflictError, its transaction
rolls back, and no alert is counted twice.

A source is read in one format: the checkpoint records it, and the pipeline
refuses to read the same source again as another. ``forget_source`` is the way
out when the first reading was wrong (every line went to the dead-letter sink):
it drops the source's checkpoint and batch marks, audited, so the next ingest
reads it afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bastion.audit import Actor, record
from bastion.boundary.models import IngestBatchRow, IngestSourceRow
from bastion.core.errors import ConflictError, InputError, NotFoundError
from bastion.core.records import from_row
from bastion.core.timeutil import utcnow


@dataclass(frozen=True)
class Checkpoint:
    """How far one source has been processed."""

    key: str  # the source's identity, e.g. a fingerprint of its content
    path: str
    format: str
    offset: int  # bytes fully processed: resume reading here
    size: int | None  # the source's size when last seen; None for streams
    done: bool
    updated_at: datetime


def get_checkpoint(session: Session, key: str) -> Checkpoint | None:
    """Return the checkpoint of source ``key``, or None if it was never ingested."""
    row = session.get(IngestSourceRow, key)
    return None if row is None else from_row(Checkpoint, row)


def save_checkpoint(
    session: Session,
    key: str,
    *,
    path: str,
    format: str,
    offset: int,
    size: int | None,
    done: bool,
) -> None:
    """Create or replace the checkpoint of source ``key``; flush, do not commit."""
    if offset < 0 or (size is not None and size < 0):
        msg = f"checkpoint of {path}: offset and size must not be negative ({offset}, {size})"
        raise InputError(msg)
    values = {
        "path": path,
        "format": format,
        "offset": offset,
        "size": size,
        "done": done,
        "updated_at": utcnow(),
    }
    row = session.get(IngestSourceRow, key)
    if row is None:
        try:
            # Two workers may commit the first chunks of one new source at once: the
            # second insert waits for the first, fails, and updates its row instead.
            with session.begin_nested():
                session.add(IngestSourceRow(key=key, **values))
            return
        except IntegrityError:
            row = session.get(IngestSourceRow, key, populate_existing=True)
            if row is None:  # not a race: something else is wrong
                raise
    for name, value in values.items():
        setattr(row, name, value)
    session.flush()


def list_sources(session: Session) -> list[Checkpoint]:
    """Return every source's checkpoint, most recently updated first."""
    rows = session.scalars(
        select(IngestSourceRow).order_by(IngestSourceRow.updated_at.desc(), IngestSourceRow.key)
    )
    return [from_row(Checkpoint, r) for r in rows]


def batch_done(session: Session, batch_id: str) -> bool:
    """Tell whether batch ``batch_id`` was already committed."""
    found = session.scalar(
        select(IngestBatchRow.batch_id).where(IngestBatchRow.batch_id == batch_id)
    )
    return found is not None


def mark_batch(
    session: Session, batch_id: str, *, source_key: str, events: int, rejects: int
) -> None:
    """Record batch ``batch_id`` as processed; raise ConflictError if it already is.

    Flushes at once, so a duplicate fails before any other work in the transaction;
    the caller must then roll back (``Store.session`` does) and treat the batch as
    done.
    """
    session.add(
        IngestBatchRow(
            batch_id=batch_id,
            source_key=source_key,
            events=events,
            rejects=rejects,
            processed_at=utcnow(),
        )
    )
    try:
        session.flush()
    except IntegrityError as exc:
        msg = f"batch {batch_id} is already processed; roll back and skip it"
        raise ConflictError(msg) from exc


def forget_source(session: Session, source: str, actor: Actor) -> Checkpoint:
    """Forget source ``source`` (its key, or its path if one source has it) so it can be read again.

    Drop its checkpoint and its batch marks and record that ``actor`` did; return the
    checkpoint forgotten. Refuse with ConflictError when any of its events reached the
    archive: reading it again would archive them twice. Its dead letters are replaced
    batch by batch when it is read again.
    """
    row = session.get(IngestSourceRow, source)
    if row is None:
        rows = list(session.scalars(select(IngestSourceRow).where(IngestSourceRow.path == source)))
        if not rows:
            msg = f"no ingested source has key or path {source!r}; see `bastion boundary sources`"
            raise NotFoundError(msg)
        if len(rows) > 1:
            keys = ", ".join(sorted(r.key for r in rows))
            msg = f"{len(rows)} sources have path {source!r}; forget one by its key: {keys}"
            raise ConflictError(msg)
        row = rows[0]
    forgotten = from_row(Checkpoint, row)
    archived = session.scalar(
        select(func.coalesce(func.sum(IngestBatchRow.events), 0)).where(
            IngestBatchRow.source_key == row.key
        )
    )
    if archived:
        msg = (
            f"{row.path} ({row.key}) has {archived} events archived as {row.format}; "
            "forgetting it would archive them a second time when read again"
        )
        raise ConflictError(msg)
    session.execute(delete(IngestBatchRow).where(IngestBatchRow.source_key == row.key))
    session.delete(row)
    record(
        session,
        actor,
        "boundary.source_forget",
        f"source:{forgotten.key}",
        before={
            "path": forgotten.path,
            "format": forgotten.format,
            "offset": forgotten.offset,
            "done": forgotten.done,
        },
    )
    session.flush()
    return forgotten
