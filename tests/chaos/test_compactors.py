"""Fault 7: two compactors started at once, and a compaction killed half-way.

One compactor holds the maintenance lease (a PostgreSQL advisory lock), the other
waits for it; a compaction SIGKILLed between writing its outputs and deleting its
inputs leaves every event visible exactly once, and the next holder finishes it.
The archive ends identical, file for file and row for row, to one compaction of the
same batches in one process.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from tests.chaos.harness import (
    Bastion,
    NatsServer,
    archive_snapshot,
    dns_log,
    exactly_once,
    wait_for,
)

from bastion.boundary.checkpoints import batch_done
from bastion.boundary.compaction import compact
from bastion.boundary.lease import LEASE_KEY
from bastion.store import Store

pytestmark = [pytest.mark.chaos, pytest.mark.slow]
LINES = 8_000
DAY = 86_400


def _waiting(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _compacted_once(archive: Path, reference: Path, url: str) -> dict[str, list[tuple[str, ...]]]:
    """Compact a copy of the archive in this process, alone; return what a reader sees of it."""
    shutil.copytree(archive, reference)
    store = Store.from_url(url)
    with store.session() as session:
        compact(reference, committed=lambda batch: batch_done(session, batch))
    store.dispose()
    return archive_snapshot(reference)


def test_two_compactors_take_turns_and_an_interrupted_one_leaves_each_event_once(
    bastion: Bastion, nats_server: NatsServer, tmp_path: Path
) -> None:
    logs = [tmp_path / "day1.log", tmp_path / "day2.log"]
    for n, log in enumerate(logs):
        dns_log(log, LINES, start=1748822400 + n * DAY)
    bastion.publish(*logs, chunk_bytes=16384)
    bastion.drain(nats_server, {"worker": bastion.worker("worker")})
    archive = bastion.archive
    staged = sorted(archive.glob("day=*/org=_staging/*.parquet"))
    assert len(staged) > 20
    reference = _compacted_once(archive, tmp_path / "reference", bastion.database_url)

    # Killed after writing its first day's outputs, before deleting that day's inputs.
    assert bastion.run("archive", "compact", "--all", crash_at="during-compaction:1") == -9
    assert list(archive.glob("day=*/.compaction-*.json")), "the compaction was cut short"
    exactly_once(archive, 2 * LINES)
    cut_short = archive_snapshot(archive)

    # The test holds the lease: both compactors, started at once, wait for it.
    holder = create_engine(bastion.database_url)
    with holder.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LEASE_KEY})
        first = bastion.start("archive", "compact", "--all", "--json", log="compactor-1")
        second = bastion.start("archive", "compact", "--all", "--json", log="compactor-2")
        wait_for(lambda: _waiting(bastion.database_url) == 2, 60, "both compactors to wait")
        assert archive_snapshot(archive) == cut_short  # neither touched the archive
        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LEASE_KEY})
    holder.dispose()
    assert first.wait(120) == 0, bastion.log("compactor-1")
    assert second.wait(120) == 0, bastion.log("compactor-2")

    runs = [bastion.output("compactor-1"), bastion.output("compactor-2")]
    assert all(r["held"] and r["waited_s"] > 0 for r in runs)
    worked = sorted(r["recovered"] + r["staged_files"] for r in runs)
    assert worked[0] == 0 < worked[1]  # one did the work, in turn; the other found it done
    assert archive_snapshot(archive) == reference
    assert not list(archive.glob("day=*/.compaction-*"))
    assert not list(archive.glob("day=*/org=_staging/*.parquet"))
    exactly_once(archive, 2 * LINES)
