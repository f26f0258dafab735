"""Archive maintenance under the lease: compaction of the days that are over, then retention.

``bastion archive compact`` / ``retain`` / ``prune`` and every worker's periodic round
(``bastion boundary worker --maintain-every``) come here. Whoever holds the lease
(``boundary.lease``) does the work; a worker's round that finds it held skips, a
command run by hand waits its turn. Compaction is safe to interrupt anywhere (see
``boundary.compaction``); the next holder finishes or undoes what was left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bastion.audit import Actor
from bastion.boundary.checkpoints import batch_done
from bastion.boundary.compaction import CompactionStats, compact
from bastion.boundary.lease import maintenance_lease
from bastion.boundary.retention import RetentionReport, apply_retention
from bastion.core.settings import Settings
from bastion.store import Store


@dataclass
class Maintenance:
    """What one round did: whether it held the lease, how long it waited, what it changed."""

    held: bool
    waited_s: float
    compaction: CompactionStats | None = None
    retention: RetentionReport | None = None


def _compact(store: Store, root: Path, closed_before: datetime | None) -> CompactionStats:
    with store.session() as session:
        return compact(
            root, committed=lambda batch: batch_done(session, batch), closed_before=closed_before
        )


def compact_archive(
    store: Store, root: Path, *, closed_before: datetime | None, wait: bool = True
) -> Maintenance:
    """Compact committed staged batches of the days closed before ``closed_before``, under the lease."""
    with maintenance_lease(store, root, wait=wait) as lease:
        if not lease.held:
            return Maintenance(False, lease.waited_s)
        return Maintenance(True, lease.waited_s, compaction=_compact(store, root, closed_before))


def retain_archive(
    store: Store, root: Path, *, keep_days: int, actor: Actor, wait: bool = True
) -> Maintenance:
    """Apply retention (``keep_days``) to the archive, under the lease."""
    with maintenance_lease(store, root, wait=wait) as lease:
        if not lease.held:
            return Maintenance(False, lease.waited_s)
        report = apply_retention(store, root, keep_days=keep_days, actor=actor)
        return Maintenance(True, lease.waited_s, retention=report)


def maintain(store: Store, settings: Settings, *, actor: Actor, wait: bool = False) -> Maintenance:
    """One round: compact the days over for ``archive_compact_after_hours``, then retention."""
    root = settings.archive_dir
    with maintenance_lease(store, root, wait=wait) as lease:
        if not lease.held:
            return Maintenance(False, lease.waited_s)
        closed = datetime.now(UTC) - timedelta(hours=settings.archive_compact_after_hours)
        done = Maintenance(True, lease.waited_s, compaction=_compact(store, root, closed))
        if settings.archive_retention_days is not None:
            done.retention = apply_retention(
                store, root, keep_days=settings.archive_retention_days, actor=actor
            )
        return done
