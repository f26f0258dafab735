"""`bastion hunt` reads the event archive and nothing else: each way out is refused.

A hunt is one SELECT over the ``events`` view in an in-memory DuckDB whose file
access is limited to the archive (``allowed_directories``, external access off,
configuration locked). These probes try the ways out an analyst's SQL, or a file
planted in the archive, could take.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from bastion.boundary.archive import write_batch
from bastion.boundary.hunting import hunt
from bastion.core.errors import InputError

SECRET = "TOPSECRET"


def events() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "@timestamp": [datetime(2024, 3, 1, 10, tzinfo=UTC)] * 2,
            "organization.id": ["R0A", "RXX"],
            "source.ip": ["10.1.0.5", "10.2.0.9"],
        }
    )


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """An archive of two events, with a secret CSV and Parquet file beside it."""
    root = tmp_path / "archive"
    write_batch(events(), root, "batch-1")
    (tmp_path / "secret.csv").write_text(f"word\n{SECRET}\n", encoding="utf-8")
    outside = tmp_path / "outside" / "day=2024-03-01" / "org=_staging"
    outside.mkdir(parents=True)
    staged = next(root.glob("day=2024-03-01/org=_staging/*.parquet"))
    pl.read_parquet(staged, hive_partitioning=False).with_columns(
        pl.lit(SECRET).alias("source.ip")
    ).write_parquet(outside / "part-x.parquet")
    return root


def refused(archive: Path, sql: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        hunt(archive, sql)


# DuckDB's own words for a file it may not open, under allowed_directories.
NO_ACCESS = "hunt query failed: Permission Error: Cannot access"
NOT_SELECT = "a hunt is one SELECT query"

PROBES: list[tuple[str, str]] = [
    ("SELECT * FROM read_csv('/etc/passwd')", NO_ACCESS),
    ("SELECT * FROM read_csv('{base}/secret.csv')", NO_ACCESS),
    ("SELECT * FROM read_csv('{archive}/../secret.csv')", NO_ACCESS),
    ("SELECT * FROM '{base}/secret.csv'", NO_ACCESS),
    ("SELECT * FROM read_text('/etc/passwd')", NO_ACCESS),
    ("SELECT * FROM read_blob('/etc/hostname')", NO_ACCESS),
    ("SELECT * FROM read_json_auto('/etc/os-release')", NO_ACCESS),
    ("SELECT * FROM glob('/etc/*')", NO_ACCESS),
    ("SELECT * FROM sniff_csv('/etc/passwd')", NO_ACCESS),
    ("SELECT * FROM parquet_metadata('/etc/passwd')", NO_ACCESS),
    (
        "SELECT * FROM read_parquet('{base}/outside/day=2024-03-01/org=_staging/*.parquet')",
        NO_ACCESS,
    ),
    ("SELECT * FROM read_parquet('http://127.0.0.1:9/x.parquet')", NO_ACCESS),
    ("SELECT * FROM read_csv('.tmp/spilled.csv')", NO_ACCESS),
    ("SELECT * FROM (VALUES (1)) t, read_csv('/etc/passwd')", NO_ACCESS),
    ("ATTACH '{base}/other.db' AS other", NOT_SELECT),
    ("SELECT * FROM events; ATTACH '{base}/other.db'", NOT_SELECT),
    ("COPY (SELECT * FROM events) TO '{base}/out.csv'", NOT_SELECT),
    ("COPY events TO '{base}/out.parquet' (FORMAT parquet)", NOT_SELECT),
    ("EXPORT DATABASE '{base}/exported'", NOT_SELECT),
    ("INSTALL httpfs", NOT_SELECT),
    ("LOAD httpfs", NOT_SELECT),
    ("SET enable_external_access = true", NOT_SELECT),
    ("RESET allowed_directories", NOT_SELECT),
    ("PRAGMA profiling_output = '{base}/profile.txt'", NOT_SELECT),
    ("CREATE TABLE copied AS SELECT * FROM events", NOT_SELECT),
    ("SELECT * FROM query('COPY (SELECT 1) TO ''{base}/q.csv''')", "Expected a single SELECT"),
    ("SELECT getenv('HOME')", "getenv does not exist"),
]


@pytest.mark.parametrize(("sql", "match"), PROBES, ids=[p[0][:48] for p in PROBES])
def test_hunt_sql_cannot_leave_the_archive(archive: Path, sql: str, match: str) -> None:
    base = archive.parent
    (base / ".tmp").mkdir()
    (base / ".tmp" / "spilled.csv").write_text(f"word\n{SECRET}\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(base)  # DuckDB's default spill directory is .tmp here
        refused(archive, sql.format(base=base, archive=archive), match)
    assert sorted(p.name for p in base.iterdir()) == [".tmp", "archive", "outside", "secret.csv"]


def test_the_limits_are_locked_and_still_in_place(archive: Path) -> None:
    found = hunt(
        archive,
        "SELECT current_setting('enable_external_access') AS external, "
        "current_setting('lock_configuration') AS locked, "
        "current_setting('allowed_directories') AS allowed",
    ).row(0, named=True)
    root = f"{archive.resolve()}/"
    assert found["external"] is False
    assert found["locked"] is True
    assert all(str(entry).startswith(root) for entry in found["allowed"])


def test_the_events_are_still_there(archive: Path) -> None:
    assert hunt(archive, "SELECT count(*) FROM events").item() == 2


Plant = Callable[[Path, Path], Any]


def link_a_parquet_file(archive: Path, base: Path) -> None:
    link = archive / "day=2024-03-01" / "org=_staging" / "part-evil.parquet"
    link.symlink_to(base / "outside" / "day=2024-03-01" / "org=_staging" / "part-x.parquet")


def link_a_partition(archive: Path, base: Path) -> None:
    (archive / "day=2024-03-01" / "org=EVIL").symlink_to(
        base / "outside" / "day=2024-03-01" / "org=_staging", target_is_directory=True
    )


def link_a_system_file(archive: Path, base: Path) -> None:
    (archive / "day=2024-03-01" / "org=_staging" / "part-passwd.parquet").symlink_to("/etc/passwd")


def link_in_a_loop(archive: Path, base: Path) -> None:
    link = archive / "day=2024-03-01" / "org=_staging" / "part-loop.parquet"
    link.symlink_to(link)


@pytest.mark.parametrize(
    ("plant", "match"),
    [
        (link_a_parquet_file, NO_ACCESS),
        (link_a_partition, NO_ACCESS),
        (link_a_system_file, NO_ACCESS),
        (link_in_a_loop, "the archive file cannot be read: Symlink loop"),
    ],
)
def test_a_link_planted_in_the_archive_reads_nothing_outside_it(
    archive: Path, plant: Plant, match: str
) -> None:
    plant(archive, archive.parent)
    refused(archive, "SELECT * FROM events", match)
    refused(archive, f"SELECT * FROM events WHERE \"source.ip\" = '{SECRET}'", match)
