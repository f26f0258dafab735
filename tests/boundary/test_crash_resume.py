"""Killing an ingest mid-file and running it again leaves exactly one copy of every event."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.conftest import initialised_data

from bastion.boundary.hunting import hunt

ZEEK_HEADER = "\n".join(
    [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tconn",
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state",
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring",
    ]
)


def _big_zeek_log(path: Path, lines: int) -> None:
    """Write a Zeek conn log of ``lines`` distinct events (about 100 bytes each)."""
    rows = (
        f"{1748822400 + i / 1000:.6f}\tC{i:09d}\t11.0.{i % 250}.{i % 200}\t{1024 + i % 60000}\t"
        f"198.18.{i % 250}.{i % 199}\t443\ttcp\tssl\t0.5\t{i % 9000}\t{i % 7000}\tSF"
        for i in range(lines)
    )
    path.write_text(ZEEK_HEADER + "\n" + "\n".join(rows) + "\n")


def _bastion(data_dir: Path, *args: str, output: bool = False) -> subprocess.Popen[bytes]:
    # commit every 8 MiB chunk on its own, so a kill can land between commits
    env = {
        **os.environ,
        "BASTION_DATA_DIR": str(data_dir),
        "BASTION_INGEST_SEGMENT_BYTES": "1",
        "BASTION_INGEST_CHUNK_BYTES": str(8 << 20),
    }
    env.pop("BASTION_DATABASE_URL", None)
    pipe = subprocess.PIPE if output else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-c", "from bastion.cli.main import main; main()", *args],
        env=env,
        stdout=pipe,
        stderr=pipe,
    )


def _committed_batches(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM ingest_batches").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
def test_sigkill_mid_file_then_rerun_leaves_each_event_exactly_once(
    tmp_path: Path, migrated_sqlite: Path
) -> None:
    log = tmp_path / "conn.log"
    lines = 600_000  # about 60 MB: eight chunks
    _big_zeek_log(log, lines)
    data = initialised_data(migrated_sqlite, tmp_path / "data")

    victim = _bastion(data, "boundary", "ingest", str(log))
    deadline = time.monotonic() + 120
    while _committed_batches(data / "bastion.db") < 2:
        assert victim.poll() is None, "the ingest finished before it could be killed"
        assert time.monotonic() < deadline, "no batch committed in time"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(30)
    committed = _committed_batches(data / "bastion.db")
    assert 2 <= committed < 8, "the kill must land mid-file"

    rerun = _bastion(data, "boundary", "ingest", "--json", str(log), output=True)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode()
    assert b'"status": "resumed"' in out

    counts = hunt(
        data / "archive",
        'SELECT count(*) AS n, count(DISTINCT "log.offset") AS offsets, '
        'count(DISTINCT "event.original") AS lines FROM events',
    ).row(0)
    assert counts == (lines, lines, lines)
