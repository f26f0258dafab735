"""Archive maintenance under the lease: a round that finds the lease held does nothing; the
holder compacts the days that are over, then applies retention."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from bastion.audit import Actor, list_events
from bastion.boundary.archive import write_batch
from bastion.boundary.checkpoints import mark_batch
from bastion.boundary.lease import maintenance_lease
from bastion.boundary.maintenance import maintain
from bastion.core.settings import Settings
from bastion.store import Store


def test_a_round_skips_while_the_lease_is_held_and_then_compacts_and_retains(
    sqlite_store: Store, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", archive_retention_days=30)
    root = settings.archive_dir
    at = datetime(2024, 3, 1, 10, tzinfo=UTC)
    write_batch(pl.DataFrame({"@timestamp": [at], "organization.id": ["R0A"]}), root, "b-1")
    with sqlite_store.session() as session:
        mark_batch(session, "b-1", source_key="k", events=1, rejects=0)
    actor = Actor.cli("timer")

    with maintenance_lease(sqlite_store, root) as held:
        assert held.held
        skipped = maintain(sqlite_store, settings, actor=actor)
    assert not skipped.held
    assert skipped.compaction is None
    assert list(root.glob("day=2024-03-01/org=_staging/*.parquet"))

    done = maintain(sqlite_store, settings, actor=actor)
    assert done.held
    assert done.compaction is not None
    assert done.compaction.staged_files == 1
    assert done.retention is not None
    assert done.retention.days_removed == ["2024-03-01"]
    assert not (root / "day=2024-03-01").exists()
    with sqlite_store.session() as session:
        trail, _ = list_events(session, action="archive.retention")
    assert [e.target for e in trail] == ["archive-day:2024-03-01"]
