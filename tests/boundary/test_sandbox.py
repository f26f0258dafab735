"""The hunt sandbox: the archive and nothing else, one SELECT, limits on memory and time.

Each way out is tried twice: through ``run_sandboxed`` (what the console and API
call), and straight on the sandbox's DuckDB connection, so the refusal is DuckDB's
own and not only the one-SELECT check in front of it.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from bastion.boundary.archive import write_batch
from bastion.boundary.hunting import Hunt
from bastion.boundary.sandbox import (
    HuntBusy,
    HuntSlots,
    HuntTimedOut,
    SandboxLimits,
    _settings,
    run_sandboxed,
)
from bastion.core.errors import InputError

LIMITS = SandboxLimits(memory_limit="256MB", seconds=5.0, threads=1)


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, Path]:
    """An archive of three events, and a Parquet file and a secret outside it."""
    archive = tmp_path / "archive"
    events = pl.DataFrame(
        {
            "@timestamp": [datetime(2024, 3, 1, h, tzinfo=UTC) for h in (10, 11, 12)],
            "organization.id": ["RAL", "RJ1", "RAL"],
            "source.ip": ["10.20.0.5", "10.30.0.9", "10.20.0.6"],
        }
    )
    write_batch(events, archive, "batch-1")
    outside = tmp_path / "outside"
    outside.mkdir()
    pl.DataFrame({"secret": ["outside-row"]}).write_parquet(outside / "other.parquet")
    (outside / "secret.csv").write_text("secret\nclassified\n", encoding="utf-8")
    return archive, outside


def test_a_select_gives_its_rows_a_page_at_a_time_and_its_cost(world: tuple[Path, Path]) -> None:
    archive, _ = world
    sql = 'SELECT "source.ip" FROM events ORDER BY "@timestamp"'
    first = run_sandboxed(archive, sql, limits=LIMITS, limit=2)
    assert first.rows["source.ip"].to_list() == ["10.20.0.5", "10.30.0.9"]
    assert first.more
    second = run_sandboxed(archive, sql, limits=LIMITS, limit=2, offset=2)
    assert second.rows["source.ip"].to_list() == ["10.20.0.6"]
    assert not second.more
    assert first.cost.seconds > 0
    # Sorting reads the archive twice (the sort keys, then the rows of the top ones).
    assert first.cost.rows_scanned == 6
    counted = run_sandboxed(
        archive, "SELECT org, count(*) AS n FROM events GROUP BY org", limits=LIMITS, limit=10
    )
    assert counted.cost.rows_scanned == 3
    assert counted.cost.bytes_read > 0


ESCAPES = {
    "read_csv": "SELECT * FROM read_csv('{outside}/secret.csv')",
    "etc_passwd": "SELECT * FROM read_csv('/etc/passwd')",
    "read_parquet": "SELECT * FROM read_parquet('{outside}/other.parquet')",
    "replacement_scan": "SELECT * FROM '{outside}/other.parquet'",
    "read_text": "SELECT * FROM read_text('/etc/hostname')",
    "glob": "SELECT * FROM glob('/etc/*')",
    "dotdot": "SELECT * FROM read_parquet('{archive}/../outside/other.parquet')",
    "http": "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')",
    "copy_to": "COPY (SELECT 1) TO '{outside}/out.csv'",
    "attach": "ATTACH '{outside}/db.duckdb' AS d",
    "install": "INSTALL httpfs",
    "load": "LOAD httpfs",
    "set_external": "SET enable_external_access = true",
    "set_dirs": "SET allowed_directories = ['/']",
    "reset_lock": "RESET lock_configuration",
    "create_table": "CREATE TABLE t AS SELECT 1 AS a",
    "pragma": "PRAGMA version",
    "export": "EXPORT DATABASE '{outside}/dump'",
}
# What DuckDB itself allows on the connection, for the one-SELECT check alone to refuse:
# the database is in memory and thrown away, and PRAGMA version reads nothing.
DUCKDB_ALLOWS = {"create_table", "pragma"}


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_every_way_out_of_the_archive_is_refused(world: tuple[Path, Path], name: str) -> None:
    archive, outside = world
    sql = ESCAPES[name].format(outside=outside, archive=archive)
    with pytest.raises(InputError) as refused:
        run_sandboxed(archive, sql, limits=LIMITS, limit=10)
    assert "outside-row" not in str(refused.value)
    assert "classified" not in str(refused.value)
    assert not (outside / "out.csv").exists()
    assert not (outside / "db.duckdb").exists()
    assert not (outside / "dump").exists()


@pytest.mark.parametrize("name", sorted(set(ESCAPES) - DUCKDB_ALLOWS))
def test_duckdb_itself_refuses_every_way_out(world: tuple[Path, Path], name: str) -> None:
    archive, outside = world
    sql = ESCAPES[name].format(outside=outside, archive=archive)
    with Hunt(archive, memory_limit="256MB", settings=_settings(LIMITS)) as hunt:
        hunt.query("SELECT 1 FROM events LIMIT 1")  # opens the sandbox's connection
        connection = hunt._connection
        with pytest.raises(duckdb.Error) as refused:
            connection.execute(sql).fetchall()
        assert isinstance(
            refused.value, duckdb.PermissionException | duckdb.InvalidInputException
        ), refused.value
        # Still locked afterwards: the settings are what they were.
        assert connection.sql("SELECT current_setting('enable_external_access')").fetchone() == (
            False,
        )
    assert not (outside / "out.csv").exists()


def test_the_memory_limit_holds_and_a_query_over_it_fails(world: tuple[Path, Path]) -> None:
    archive, _ = world
    small = SandboxLimits(memory_limit="32MB", seconds=20.0, threads=1)
    limit = run_sandboxed(
        archive, "SELECT current_setting('memory_limit') AS m FROM events", limits=small, limit=1
    )
    assert limit.rows["m"][0] == "30.5 MiB"  # 32 MB
    greedy = "SELECT list(x) AS l FROM range(40000000) t(x)"
    with pytest.raises(InputError, match="hunt query failed"):
        run_sandboxed(archive, greedy, limits=small, limit=1)


def test_a_query_that_runs_too_long_is_stopped(world: tuple[Path, Path]) -> None:
    archive, _ = world
    quick = SandboxLimits(memory_limit="256MB", seconds=0.5, threads=1)
    endless = "SELECT sum(a.x * b.x) AS s FROM range(1000000) a(x), range(1000000) b(x)"
    with pytest.raises(HuntTimedOut, match=r"longer than 0\.5 s"):
        run_sandboxed(archive, endless, limits=quick, limit=1)


def test_one_hunt_at_a_time_per_caller() -> None:
    slots = HuntSlots()
    inside = threading.Event()
    release = threading.Event()

    def first() -> None:
        with slots.hold("user:alice"):
            inside.set()
            release.wait(5)

    runner = threading.Thread(target=first)
    runner.start()
    assert inside.wait(5)
    with pytest.raises(HuntBusy, match="already have a hunt running"), slots.hold("user:alice"):
        pass
    with slots.hold("user:bob"):  # another caller is not held up
        pass
    release.set()
    runner.join()
    with slots.hold("user:alice"):  # free again once the first ends
        pass
