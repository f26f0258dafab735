"""The overview's events per day: kept while the archive's files stay the same, per scope."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from bastion.boundary.archive import write_batch
from bastion.boundary.compaction import compact
from bastion.core.scope import Scope
from bastion.web.console.overview import archive_per_day

DAY = date(2024, 3, 1)


def events(orgs: list[str], types: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "@timestamp": [datetime(2024, 3, 1, 9 + i, tzinfo=UTC) for i in range(len(orgs))],
            "organization.id": orgs,
            "event.type": types,
        }
    )


def test_the_figures_follow_the_archive_and_stay_in_scope(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    ral, rj1 = Scope.of(["RAL"]), Scope.of(["RJ1"])
    assert archive_per_day(root, Scope.everything(), DAY) == {}  # no archive yet
    write_batch(events(["RAL", "RAL", "RJ1"], ["denied", "allowed", "denied"]), root, "batch-1")
    for _ in range(2):  # read, then kept: the same figures, each scope its own
        assert archive_per_day(root, Scope.everything(), DAY) == {DAY: (3, 2)}
        assert archive_per_day(root, ral, DAY) == {DAY: (2, 1)}
        assert archive_per_day(root, rj1, DAY) == {DAY: (1, 1)}
        assert archive_per_day(root, Scope.of([]), DAY) == {}
    write_batch(events(["RJ1"], ["allowed"]), root, "batch-2")  # a new file: read again
    assert archive_per_day(root, rj1, DAY) == {DAY: (2, 1)}
    assert archive_per_day(root, ral, DAY) == {DAY: (2, 1)}
    assert archive_per_day(root, Scope.everything(), DAY) == {DAY: (4, 2)}
    compact(root, committed=lambda _batch: True)  # the same events in other files
    assert archive_per_day(root, Scope.everything(), DAY) == {DAY: (4, 2)}
    assert archive_per_day(root, Scope.everything(), date(2024, 3, 2)) == {}  # since: later
