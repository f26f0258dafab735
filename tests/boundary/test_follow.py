"""Following a growing, rotating log: every line once, and a restart resumes where it stopped."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from bastion.boundary.hunting import hunt
from bastion.boundary.pipeline import Pipeline
from bastion.boundary.source_stats import SourceStats
from bastion.core.settings import Settings
from bastion.store import Store


def _squid(i: int) -> str:
    return f"{1748858400 + i}.000 10 11.0.0.5 TCP_MISS/200 100 GET http://site{i}.example.test/ - HIER_DIRECT/198.18.0.1 text/html\n"


def _follow(
    pipeline: Pipeline, path: Path, stop: threading.Event
) -> tuple[threading.Thread, list[SourceStats]]:
    out: list[SourceStats] = []
    thread = threading.Thread(
        target=lambda: out.append(
            pipeline.follow_file(path, "squid", poll=0.02, should_stop=stop.is_set)
        )
    )
    thread.start()
    return thread, out


def _archived(settings: Settings) -> int:
    return int(hunt(settings.archive_dir, "SELECT count(*) FROM events").item())


def _wait(condition: object) -> None:
    assert callable(condition)
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_follow_survives_rotation_and_resumes_after_restart(
    sqlite_store: Store, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    pipeline = Pipeline.open(sqlite_store, settings)
    log = tmp_path / "access.log"
    log.write_text("".join(_squid(i) for i in range(10)))

    stop = threading.Event()
    thread, out = _follow(pipeline, log, stop)
    _wait(lambda: _archived(settings) == 10)
    with log.open("a") as f:
        f.write("".join(_squid(i) for i in range(10, 15)))
    _wait(lambda: _archived(settings) == 15)
    log.rename(tmp_path / "access.log.1")
    log.write_text("".join(_squid(i) for i in range(15, 18)))
    _wait(lambda: _archived(settings) == 18)
    stop.set()
    thread.join(10)
    assert out[0].events == 18

    with log.open("a") as f:  # written while nobody follows
        f.write("".join(_squid(i) for i in range(18, 20)))
    stop = threading.Event()
    thread, out = _follow(pipeline, log, stop)
    _wait(lambda: _archived(settings) == 20)
    time.sleep(0.2)
    stop.set()
    thread.join(10)
    assert out[0].events == 2  # only the new lines: the restart resumed from the checkpoint
    assert _archived(settings) == 20


def test_a_file_that_grew_since_its_ingest_gives_only_its_new_lines(
    sqlite_store: Store, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    pipeline = Pipeline.open(sqlite_store, settings)
    log = tmp_path / "access.log"
    log.write_text("".join(_squid(i) for i in range(5)))
    assert pipeline.ingest_file(log, "squid").events == 5
    assert pipeline.ingest_file(log, "squid").status == "already ingested"
    with log.open("a") as f:
        f.write("".join(_squid(i) for i in range(5, 8)))
    grown = pipeline.ingest_file(log, "squid")
    assert (grown.status, grown.events) == ("resumed", 3)
    assert _archived(settings) == 8
