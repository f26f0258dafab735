"""Committing a batch of the boundary pipeline: files first, then one SQL transaction.

A batch is a segment of consecutive chunks of one source, each already through
``boundary.stages.transform``. Its archive and dead-letter files are written first
(idempotent by batch id), then one SQL transaction records its alerts, sightings,
correlation state, batch mark and checkpoint, then its archive files are published
— so a crash anywhere loses nothing, a rerun doubles nothing, and readers see only
committed batches (see ``boundary.pending``).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Protocol

import polars as pl

from bastion.alerts import record_alerts
from bastion.boundary.archive import publish, stage_batch
from bastion.boundary.checkpoints import batch_done, mark_batch, save_checkpoint
from bastion.boundary.crashpoints import crash_point
from bastion.boundary.deadletter import write_rejects
from bastion.boundary.parsers import Parser
from bastion.boundary.pending import pending_files
from bastion.boundary.source_stats import SourceStats
from bastion.boundary.sources import Chunk
from bastion.boundary.stages import Transformed
from bastion.core.errors import ConflictError
from bastion.detect import CorrelationState, Detector
from bastion.intel.sightings import record_sightings
from bastion.store import Store, transaction_lock

ALERTS_LOCK = "bastion.alerts.record"


class Sinks(Protocol):
    """Where a batch goes (a ``Pipeline``), and its correlation state after the last commit."""

    store: Store
    archive_root: Path
    deadletter_root: Path
    window: timedelta
    group_window: timedelta
    detector: Detector | None
    detector_state: CorrelationState


def batch_id_for(key: str, offset: int) -> str:
    """Name the batch that starts at ``offset`` of source ``key``: the same chunk, the same id."""
    return f"{key[:24]}-{offset:013d}"


def commit_segment(
    sinks: Sinks,
    segment: list[tuple[Chunk, Transformed]],
    parser: Parser,
    key: str,
    stats: SourceStats,
) -> None:
    """Commit consecutive chunks as one batch: files first, then one SQL transaction.

    A file per organisation per day costs the same whether it holds ten events or
    ten thousand, so a file's chunks are committed together in segments. Where
    a segment starts and ends depends only on where it starts, so a rerun after
    a crash rewrites the same files and counts a batch already committed once.

    The correlation state is threaded, never changed in place: a segment's first
    chunk is transformed from ``detector_state`` (the state after the last committed
    batch), each later one from its predecessor's, and the next segment only after
    this commit. The segment's last state is saved in the batch's transaction and
    becomes ``detector_state`` once that has committed; a batch committed already
    (a redelivery, another worker's commit) just drops it, so each batch counts once
    whatever crashed where, with no special case and nothing read back from SQL.
    """
    results = [result for _, result in segment]
    events = pl.concat([r.events for r in results])
    rejects = pl.concat([r.rejects for r in results])
    batch_id = batch_id_for(key, segment[0][0].offset)
    crash_point("after-parse")
    with sinks.store.session() as session:
        done = batch_done(session, batch_id)
    # A batch committed already (redelivered) is not written again: it may be compacted
    # since. Its files are published below, in case its writer died before publishing.
    pending = (
        pending_files(sinks.archive_root, batch_id)
        if done
        else stage_batch(events, sinks.archive_root, batch_id)
    )
    write_rejects(rejects, sinks.deadletter_root, batch_id)
    crash_point("after-write")
    state = segment[-1][1].state
    committed = False
    try:
        with sinks.store.session() as session:
            if batch_done(session, batch_id):
                stats.batches_already_done += 1
            else:
                mark_batch(
                    session,
                    batch_id,
                    source_key=key,
                    events=events.height,
                    rejects=rejects.height,
                )
                candidates = pl.concat([r.candidates for r in results])
                if not candidates.is_empty():
                    # Workers on several machines extend the same alerts: one at a time, so
                    # two never both open an alert for the same host and indicator.
                    transaction_lock(session, ALERTS_LOCK)
                alerts = record_alerts(
                    session, candidates, window=sinks.window, group_window=sinks.group_window
                )
                record_sightings(session, candidates)
                stats.alerts_created += alerts.created
                stats.alerts_extended += alerts.extended
                if sinks.detector is not None:
                    sinks.detector.save_state(session, state)
                committed = True
            save_checkpoint(
                session,
                key,
                path=stats.source,
                format=parser.name,
                offset=segment[-1][0].end,
                size=None,
                done=False,
            )
    except ConflictError:
        # Another worker committed this very batch a moment ago: it counts once, there.
        stats.batches_already_done += 1
        committed = False
    if committed:
        sinks.detector_state = state
    crash_point("after-commit")
    publish(pending)
    _count(stats, segment, events, rejects)


def _count(
    stats: SourceStats,
    segment: list[tuple[Chunk, Transformed]],
    events: pl.DataFrame,
    rejects: pl.DataFrame,
) -> None:
    """Add a committed (or already committed) batch's lines, events and rejects to ``stats``."""
    results = [result for _, result in segment]
    stats.batches += 1
    stats.bytes += sum(len(chunk.data) for chunk, _ in segment)
    stats.lines += sum(r.lines for r in results)
    stats.events += events.height
    stats.rejects += rejects.height
    stats.blank += sum(r.blank for r in results)
    stats.matches += sum(r.matches for r in results)
    stats.unattributed_matches += sum(r.unattributed for r in results)
    for reason, count in rejects.get_column("reason").value_counts().iter_rows():
        stats.reject_reasons[reason] = stats.reject_reasons.get(reason, 0) + count
