"""Readers see only committed batches, whatever stage of a commit a crash interrupts."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select

from bastion.boundary import commit as commit_module
from bastion.boundary import pipeline as pipeline_module
from bastion.boundary.archive import stage_batch, write_batch
from bastion.boundary.compaction import compact
from bastion.boundary.hunting import FILE, LOCATED, Hunt, hunt
from bastion.boundary.models import IngestBatchRow
from bastion.boundary.pending import GRACE, Settled, pending_files, settle
from bastion.boundary.pipeline import Pipeline
from bastion.boundary.sources import Chunk
from bastion.core.settings import Settings
from bastion.store import Store

LINES = 300


class Killed(BaseException):
    """Stands for the process dying at a crash point (not an error anything catches)."""


def _squid(i: int) -> str:
    return (
        f"{1748858400 + i}.000 10 11.0.0.5 TCP_MISS/200 100 GET "
        f"http://site{i}.example.test/ - HIER_DIRECT/198.18.0.1 text/html\n"
    )


def _settings(tmp_path: Path) -> Settings:
    # a batch per 4 KiB chunk: about forty lines each, eight batches in the file
    return Settings(data_dir=tmp_path / "data", ingest_chunk_bytes=4096, ingest_segment_bytes=1)


def _log(tmp_path: Path) -> Path:
    log = tmp_path / "access.log"
    log.write_text("".join(_squid(i) for i in range(LINES)))
    return log


def _kill_at(monkeypatch: pytest.MonkeyPatch, stage: str, nth: int) -> None:
    """Make the pipeline 'die' the ``nth`` time a batch reaches ``stage``."""
    reached: list[str] = []

    def crash_point(at: str) -> None:
        reached.append(at)
        if at == stage and reached.count(stage) == nth:
            raise Killed(stage)

    monkeypatch.setattr(commit_module, "crash_point", crash_point)


def _committed_events(store: Store) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.coalesce(func.sum(IngestBatchRow.events), 0))) or 0)


def _hunted(settings: Settings) -> tuple[int, int]:
    """Return how many events a hunt sees, and how many distinct lines among them."""
    row = hunt(
        settings.archive_dir,
        'SELECT count(*), count(DISTINCT "event.original") FROM events',
    ).row(0)
    return int(row[0]), int(row[1])


def _age(paths: list[Path], by: timedelta) -> None:
    then = time.time() - by.total_seconds()
    for path in paths:
        os.utime(path, (then, then))


def test_kill_between_write_and_commit_hides_the_batch_and_a_rerun_counts_it_once(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    log = _log(tmp_path)
    _kill_at(monkeypatch, "after-write", 3)
    with pytest.raises(Killed):
        Pipeline.open(sqlite_store, settings).ingest_file(log, "squid")

    committed = _committed_events(sqlite_store)
    assert 0 < committed < LINES
    orphans = pending_files(settings.archive_dir)
    assert len(orphans) == 1  # the third batch: written, never committed
    assert _hunted(settings) == (committed, committed)

    # A new process opening the archive at once may be a second worker racing a live
    # writer: the young orphan stays, still unseen.
    monkeypatch.undo()
    Pipeline.open(sqlite_store, settings)
    assert pending_files(settings.archive_dir) == orphans
    assert _hunted(settings) == (committed, committed)

    # Past the grace period it belongs to no one and goes.
    _age(orphans, GRACE + timedelta(minutes=1))
    Pipeline.open(sqlite_store, settings)
    assert pending_files(settings.archive_dir) == []

    rerun = Pipeline.open(sqlite_store, settings).ingest_file(log, "squid")
    assert rerun.status == "resumed"
    assert _committed_events(sqlite_store) == LINES
    assert _hunted(settings) == (LINES, LINES)


def test_rerun_over_a_young_orphan_replaces_it_rather_than_doubling(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    log = _log(tmp_path)
    _kill_at(monkeypatch, "after-write", 2)
    with pytest.raises(Killed):
        Pipeline.open(sqlite_store, settings).ingest_file(log, "squid")
    monkeypatch.undo()
    assert len(pending_files(settings.archive_dir)) == 1

    Pipeline.open(sqlite_store, settings).ingest_file(log, "squid")
    assert pending_files(settings.archive_dir) == []
    assert _hunted(settings) == (LINES, LINES)
    Pipeline.open(sqlite_store, settings).compact(every_day=True)
    assert _hunted(settings) == (LINES, LINES)


def test_kill_after_commit_before_publish_is_adopted_at_the_next_open(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    log = _log(tmp_path)
    _kill_at(monkeypatch, "after-commit", 3)
    with pytest.raises(Killed):
        Pipeline.open(sqlite_store, settings).ingest_file(log, "squid")
    monkeypatch.undo()

    committed = _committed_events(sqlite_store)
    stranded = pending_files(settings.archive_dir)
    assert len(stranded) == 1  # committed, so its checkpoint is past it: no rerun reads it
    hunted, _ = _hunted(settings)
    assert hunted < committed  # never more than committed, even now

    Pipeline.open(sqlite_store, settings)  # the next start adopts it, however young
    assert pending_files(settings.archive_dir) == []
    assert _hunted(settings) == (committed, committed)

    Pipeline.open(sqlite_store, settings).ingest_file(log, "squid")
    assert _hunted(settings) == (LINES, LINES)


def test_a_running_pipeline_given_a_committed_unpublished_batch_again_publishes_it(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker died between commit and publish; its message goes to a worker already running.
    settings = _settings(tmp_path)
    running = Pipeline.open(sqlite_store, settings)
    data = "".join(_squid(i) for i in range(40)).encode()
    parser = pipeline_module.get_parser("squid")
    ctx = pipeline_module.ParseContext(source="stream")

    def deliver(pipeline: Pipeline) -> None:
        stats = pipeline_module.SourceStats("stream", "squid")
        chunk = Chunk(data, 0)
        lines = pipeline_module.split_lines(data, 0)
        pipeline.process_chunk(chunk, lines, parser, ctx, "stream-key", stats)

    _kill_at(monkeypatch, "after-commit", 1)
    with pytest.raises(Killed):
        deliver(Pipeline.open(sqlite_store, settings))
    monkeypatch.undo()
    assert _hunted(settings) == (0, 0)

    deliver(running)
    assert pending_files(settings.archive_dir) == []
    assert _hunted(settings) == (40, 40)
    deliver(running)  # and a batch published and compacted is never written again
    Pipeline.open(sqlite_store, settings).compact(every_day=True)
    deliver(running)
    assert _hunted(settings) == (40, 40)


def _events(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "@timestamp": [datetime(2024, 3, 1, 12, tzinfo=UTC)] * n,
            "event.original": [f"line {i}" for i in range(n)],
        }
    )


def test_settle_adopts_committed_removes_old_uncommitted_and_keeps_young_ones(
    tmp_path: Path,
) -> None:
    committed_batch = stage_batch(_events(3), tmp_path, "done")
    old_orphan = stage_batch(_events(4), tmp_path, "old")
    in_flight = stage_batch(_events(5), tmp_path, "live")
    _age(old_orphan, GRACE + timedelta(seconds=1))
    assert hunt(tmp_path, "SELECT count(*) FROM events").item() == 0

    settled = settle(tmp_path, lambda batch: batch == "done", now=datetime.now(UTC))

    assert settled == Settled(adopted=1, removed=1, kept=1)
    assert hunt(tmp_path, "SELECT count(*) FROM events").item() == 3
    assert not any(p.exists() for p in committed_batch + old_orphan)
    assert all(p.exists() for p in in_flight)


def test_compaction_never_takes_an_uncommitted_pending_batch(tmp_path: Path) -> None:
    stage_batch(_events(3), tmp_path, "done")
    stage_batch(_events(4), tmp_path, "live")
    assert compact(tmp_path).events == 0  # not told what is committed: no pending batch is taken
    assert len(pending_files(tmp_path)) == 2

    stats = compact(tmp_path, committed=lambda batch: batch == "done")

    assert stats.events == 3
    assert hunt(tmp_path, "SELECT count(*) FROM events").item() == 3
    assert [p.name for p in pending_files(tmp_path)] == ["part-live.parquet.pending"]


def test_retrohunt_scan_and_located_view_skip_pending_batches(tmp_path: Path) -> None:
    # retro-hunts read with ``Hunt.scan`` and fetch rows by file: neither may see a pending batch
    write_batch(_events(3), tmp_path, "published")
    stage_batch(_events(4), tmp_path, "pending")

    with Hunt(tmp_path) as opened:
        scanned = opened.scan(
            ["event.original"],
            lambda frame: frame["event.original"].is_not_null(),
            datetime(2024, 3, 1, tzinfo=UTC),
        )
        located = opened.query(f"SELECT count(DISTINCT {FILE}) AS files FROM {LOCATED}")

    assert scanned.height == 3
    assert located.item() == 1
