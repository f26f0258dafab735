"""SIGKILL or SIGTERM at each stage of a real ingest: hunts see only committed events, and a
rerun leaves each event exactly once.

The process signals itself at the stage through the test-only hook
``BASTION_TEST_CRASH_AT`` (``bastion.boundary.crashpoints``), so each kill lands
exactly where it is meant to, not wherever a timer happens to fall.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import bastion_in, initialised_data
from typer.testing import Result

from bastion.boundary.hunting import hunt
from bastion.boundary.pending import pending_files

LINES = 3000  # about 330 KB of Squid lines: eleven batches of 32 KiB
NTH = 3  # the third batch reaching the stage; a compaction this small has one bucket: the first


def _squid(i: int) -> str:
    # 2 June 2025: a day long over, so the ingest compacts it at its end
    return (
        f"{1748858400 + i}.000 10 11.0.{i % 250}.5 TCP_MISS/200 {i} GET "
        f"http://site{i}.example.test/ - HIER_DIRECT/198.18.0.1 text/html\n"
    )


# Small segments and chunks: the ingest commits a batch every 32 KiB.
SMALL_BATCHES = {"BASTION_INGEST_SEGMENT_BYTES": "1", "BASTION_INGEST_CHUNK_BYTES": str(32 << 10)}


def _victim(data: Path, log: Path, crash_at: str) -> subprocess.CompletedProcess[str]:
    """`bastion boundary ingest log` as a process of its own, which signals itself at
    ``crash_at``."""
    env = {**os.environ, **SMALL_BATCHES, "BASTION_DATA_DIR": str(data),
           "BASTION_TEST_CRASH_AT": crash_at}  # fmt: skip
    env.pop("BASTION_DATABASE_URL", None)
    env.pop("BASTION_ARCHIVE_PATH", None)
    return subprocess.run(
        [sys.executable, "-c", "from bastion.cli.main import main; main()", "boundary",
         "ingest", str(log)],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _in_process(folder: Path, patch: pytest.MonkeyPatch, *args: str) -> Result:
    """`bastion args…` in this process over ``folder / "data"``, with the victim's batches
    (the next start after a kill, or an analyst's hunt: nothing signals it)."""
    for name, value in SMALL_BATCHES.items():
        patch.setenv(name, value)
    patch.delenv("BASTION_ARCHIVE_PATH", raising=False)
    with bastion_in(folder, patch) as bastion:
        return bastion(*args)


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path) -> Path:
    """A data directory as `bastion init` leaves it, each test's a copy of it."""
    return initialised_data(migrated_sqlite, tmp_path_factory.mktemp("template") / "data")


def _committed_events(data: Path) -> int:
    with sqlite3.connect(data / "bastion.db") as conn:
        return int(
            conn.execute("SELECT coalesce(sum(events), 0) FROM ingest_batches").fetchone()[0]
        )


def _hunted(data: Path) -> tuple[int, int]:
    """How many events a hunt sees, and how many distinct lines among them."""
    row = hunt(
        data / "archive", 'SELECT count(*), count(DISTINCT "event.original") FROM events'
    ).row(0)
    return int(row[0]), int(row[1])


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize(
    "stage", ["after-parse", "after-write", "after-commit", "during-compaction"]
)
def test_signal_at_each_ingest_stage_then_rerun_leaves_each_event_once(
    initialised: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stage: str,
    sig: signal.Signals,
) -> None:
    data = tmp_path / "data"
    shutil.copytree(initialised, data)
    log = tmp_path / "access.log"
    log.write_text("".join(_squid(i) for i in range(LINES)))

    nth = 1 if stage == "during-compaction" else NTH
    victim = _victim(data, log, crash_at=f"{stage}:{nth}:{sig.name[3:]}")
    assert victim.returncode == -sig, victim.stderr

    committed = _committed_events(data)
    hunted, distinct = _hunted(data)
    counted = _in_process(
        tmp_path, monkeypatch, "hunt", "--json", "SELECT count(*) AS n FROM events"
    )
    assert counted.exit_code == 0, counted.output
    assert json.loads(counted.stdout) == [{"n": hunted}]  # what an analyst's hunt sees
    assert hunted == distinct  # no event twice
    stranded = pending_files(data / "archive")
    if stage == "after-commit":
        # committed but not yet published: unseen until the next start adopts it
        assert len(stranded) == 1
        assert 0 < hunted < committed
    else:
        assert hunted == committed, f"hunt saw {hunted} events, {committed} were committed"
    if stage == "during-compaction":
        assert committed == LINES
        assert list((data / "archive").glob("day=*/.compaction-*.json"))  # a marker left behind
    else:
        assert 0 < committed < LINES

    rerun = _in_process(tmp_path, monkeypatch, "boundary", "ingest", "--json", str(log))
    assert rerun.exit_code == 0, rerun.output
    status = "already ingested" if stage == "during-compaction" else "resumed"
    assert f'"status": "{status}"' in rerun.stdout

    assert _committed_events(data) == LINES
    assert _hunted(data) == (LINES, LINES)
    assert pending_files(data / "archive") == []
    assert not list((data / "archive").glob("day=*/.compaction-*"))
