"""Boundary workers' heartbeats: each running worker says, every few seconds, that it lives.

A worker (``bastion boundary worker``) upserts its row in ``boundary_workers``: its id,
host, process, when it started, its last beat, its state (``running``; ``blocked`` with
the reason while it cannot commit and so acknowledges nothing: the archive volume full,
the database away; ``stopped`` when it exits cleanly) and its counts so far. ``list_workers``
is what ``bastion boundary status`` reads: a worker whose last beat is older than a few
beats is dead or cut off, whatever its state says.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.boundary.models import WorkerBeatRow
from bastion.core.timeutil import utcnow

BEAT_SECONDS = 5.0
RUNNING, BLOCKED, STOPPED = "running", "blocked", "stopped"


@dataclass(frozen=True)
class WorkerBeat:
    """A worker's last heartbeat."""

    worker_id: str
    host: str
    pid: int
    started_at: datetime
    last_beat: datetime
    state: str
    reason: str
    batches: int
    events: int
    dead_letters: int

    def age_seconds(self, now: datetime) -> float:
        """Seconds since the last beat."""
        return (now - self.last_beat).total_seconds()


def default_worker_id() -> str:
    """Name this process: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(
    session: Session,
    worker_id: str,
    *,
    started_at: datetime,
    state: str = RUNNING,
    reason: str = "",
    batches: int = 0,
    events: int = 0,
    dead_letters: int = 0,
) -> None:
    """Record that worker ``worker_id`` is alive now, in ``state``; flush, do not commit."""
    row = session.get(WorkerBeatRow, worker_id)
    if row is None:
        row = WorkerBeatRow(worker_id=worker_id)
        session.add(row)
    row.host = socket.gethostname()[:200]
    row.pid = os.getpid()
    row.started_at = started_at
    row.last_beat = utcnow()
    row.state = state
    row.reason = reason
    row.batches, row.events, row.dead_letters = batches, events, dead_letters
    session.flush()


def list_workers(session: Session) -> list[WorkerBeat]:
    """Return every worker's last heartbeat, the most recent first."""
    rows = session.scalars(
        select(WorkerBeatRow).order_by(WorkerBeatRow.last_beat.desc(), WorkerBeatRow.worker_id)
    )
    return [
        WorkerBeat(
            worker_id=r.worker_id,
            host=r.host,
            pid=r.pid,
            started_at=r.started_at,
            last_beat=r.last_beat,
            state=r.state,
            reason=r.reason,
            batches=r.batches,
            events=r.events,
            dead_letters=r.dead_letters,
        )
        for r in rows
    ]
