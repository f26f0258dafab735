"""Save and load a correlation state (the open windows) in SQL.

Why SQL and not a file under the data directory: the boundary pipeline records
a batch's alerts and marks the batch done in one transaction, and ``save`` only
adds to the caller's session (it flushes, never commits), so the state a batch
produced is stored in that same transaction. A crash therefore never leaves alerts
and windows out of step (no double firing when the batch is redelivered, no lost
window), and several boundary workers on several machines share PostgreSQL,
each saving its own ``partition`` (the key partition it consumes).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import polars as pl
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bastion.core.errors import InputError, Location
from bastion.core.timeutil import utcnow
from bastion.detect.correlation.engine import CorrelationEngine, CorrelationState
from bastion.detect.correlation.models import CorrelationStateRow

ENGINE_ROW = "*"  # the row that holds the counters


@dataclass(frozen=True)
class LoadReport:
    """What ``load`` restored, and what it set aside because the rule changed or went."""

    restored: tuple[str, ...] = ()
    discarded: tuple[str, ...] = ()  # rule keys whose stored windows no longer apply
    rows: int = 0


def _encode(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="zstd")
    return buffer.getvalue()


def save(
    engine: CorrelationEngine,
    state: CorrelationState,
    session: Session,
    *,
    partition: str = "default",
) -> int:
    """Replace the stored state of ``partition`` with ``state`` (of ``engine``'s rules); flush.

    Does not commit. Returns the number of observations stored.
    """
    if not partition or len(partition) > 100:
        msg = "a state partition is a name of 1 to 100 characters"
        raise InputError(msg, Location(field="partition"))
    session.execute(delete(CorrelationStateRow).where(CorrelationStateRow.partition == partition))
    now = utcnow()
    counters = {
        "watermark": state.watermark,
        "next_seq": state.next_seq,
        "batches": state.batches,
        "updated_at": now,
    }
    rows = [
        CorrelationStateRow(
            partition=partition, rule_key=ENGINE_ROW, fingerprint="", rows=0, data=b"", **counters
        )
    ]
    fingerprints = {spec.key: spec.fingerprint for spec in engine.specs}
    stored = 0
    for key, frame in state.held().items():
        rows.append(
            CorrelationStateRow(
                partition=partition,
                rule_key=key,
                fingerprint=fingerprints[key],
                rows=frame.height,
                data=_encode(frame),
                **counters,
            )
        )
        stored += frame.height
    session.add_all(rows)
    session.flush()
    return stored


def load(
    engine: CorrelationEngine, session: Session, *, partition: str = "default"
) -> tuple[CorrelationState, LoadReport]:
    """Read the state stored under ``partition`` for ``engine``'s rules, and what was set aside.

    Windows of rules that changed or went are dropped; a partition never saved gives
    the empty state.
    """
    rows = session.scalars(
        select(CorrelationStateRow).where(CorrelationStateRow.partition == partition)
    ).all()
    counters = next((r for r in rows if r.rule_key == ENGINE_ROW), None)
    if counters is None:
        return CorrelationState(), LoadReport()
    fingerprints = {spec.key: spec.fingerprint for spec in engine.specs}
    states: dict[str, pl.DataFrame] = {}
    discarded: list[str] = []
    for row in rows:
        if row.rule_key == ENGINE_ROW:
            continue
        if fingerprints.get(row.rule_key) != row.fingerprint:
            discarded.append(row.rule_key)
            continue
        try:
            states[row.rule_key] = pl.read_ipc(io.BytesIO(row.data))
        except (pl.exceptions.PolarsError, OSError) as exc:
            msg = f"stored correlation state of {row.rule_key!r} is unreadable: {exc}"
            raise InputError(msg, Location(field=f"correlation_state.{partition}")) from exc
    state = engine.restore(
        states, watermark=counters.watermark, next_seq=counters.next_seq, batches=counters.batches
    )
    return state, LoadReport(
        restored=tuple(sorted(states)),
        discarded=tuple(sorted(discarded)),
        rows=state.rows,
    )
