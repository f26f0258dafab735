"""Pending batches: archive files written before their SQL commit, published after it.

The pipeline commits a batch in three steps::

    stage_batch   write day=D/org=_staging/part-<batch_id>.parquet.pending (atomically)
    SQL commit    mark the batch, its alerts and the source's checkpoint, in one transaction
    publish       rename each pending file to part-<batch_id>.parquet

Readers (hunts, retro-hunts, alert evidence, the overview, compaction) list only
``*.parquet``, so they see a batch only once it is committed. A crash leaves one of:

(a) pending files of an uncommitted batch. Invisible. A rerun stages the same
    batch id to the same names (replacing them), commits and publishes it: each
    event once. A batch that is never rerun is removed by ``settle`` once its
    files are older than ``GRACE``.
(b) pending files of a committed batch. The checkpoint has moved past it, so it
    will not be read again: ``settle`` adopts it (publishes it). ``settle`` runs
    when a pipeline opens and before every compaction; a running pipeline given
    the batch again (a redelivered message) adopts it on the spot.

Why a grace period rather than "remove every uncommitted pending file at start":
workers on several machines share one archive, and a worker starting up cannot
tell a dead worker's orphan from a live worker's batch between its write and its
commit (a process id means nothing on another machine). A live worker's window
is the few seconds of one SQL transaction; a file older than ``GRACE`` whose
batch is still uncommitted belongs to no one. Adopting needs no such care: a
committed batch is done whoever wrote it, and two workers publishing it at once
both rename the same content to the same name.

A pipeline checks that a batch is not committed before staging it, so a batch
already committed (and perhaps compacted since) is never written again. Left
open: two workers given the same batch at once, one committing and publishing it
and a compaction of its day running before the other publishes its identical
copy, would show that batch twice; compaction only takes days that ended
``archive_compact_after_hours`` ago, and a message is redelivered only after its
worker stopped acknowledging it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bastion.boundary.archive import DAY, ORG, PENDING, STAGING, publish
from bastion.core.timeutil import as_utc

# Older than this, a pending file of an uncommitted batch is an orphan: no live writer
# takes this long between writing a batch and committing it.
GRACE = timedelta(hours=1)
_PREFIX = "part-"
_SUFFIX = ".parquet" + PENDING


@dataclass(frozen=True)
class Settled:
    """What ``settle`` did with the pending files it found."""

    adopted: int = 0  # committed batches' files, published
    removed: int = (
        0  # uncommitted batches' files older than the grace period, and stale temporaries
    )
    kept: int = 0  # uncommitted batches' files younger than it: perhaps a live writer's


def batch_of(path: Path) -> str:
    """Return the batch id a pending file belongs to."""
    return path.name.removeprefix(_PREFIX).removesuffix(_SUFFIX)


def pending_files(root: Path, batch_id: str = "*") -> list[Path]:
    """List the pending files of batch ``batch_id`` (every batch's by default), every day."""
    return sorted(root.glob(f"{DAY}=*/{ORG}={STAGING}/{_PREFIX}{batch_id}{_SUFFIX}"))


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:  # published or removed meanwhile by its writer
        return False


def settle(
    root: Path, committed: Callable[[str], bool], *, now: datetime, grace: timedelta = GRACE
) -> Settled:
    """Adopt the pending files of committed batches; remove orphans older than ``grace``.

    An uncommitted batch's files younger than ``grace`` are left alone: another
    process may be about to commit them. Half-written pending files (temporaries
    of a writer killed mid-write) older than ``grace`` go too.
    """
    cutoff = (as_utc(now) - grace).timestamp()
    adopted = removed = kept = 0
    for path in pending_files(root):
        if committed(batch_of(path)):
            publish([path])
            adopted += 1
        elif _older(path, cutoff):
            path.unlink(missing_ok=True)
            removed += 1
        else:
            kept += 1
    for temporary in root.glob(f"{DAY}=*/{ORG}={STAGING}/.{_PREFIX}*{_SUFFIX}.*.tmp"):
        if _older(temporary, cutoff):
            temporary.unlink(missing_ok=True)
            removed += 1
    return Settled(adopted=adopted, removed=removed, kept=kept)
