"""Checks counted by a tally reach the store a second later, at shutdown, or before a reader reads."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from bastion import passwords
from bastion.core.scope import Scope
from bastion.core.settings import Settings
from bastion.passwords.tally import CheckTally
from bastion.store import Store
from bastion.web.app import create_app
from bastion.web.testing import run_lifespan


def _counts(store: Store) -> list[tuple[str, str, int]]:
    with store.session() as session:
        found = passwords.check_counts(session, Scope.everything())
    return [(c.org, c.reason, c.checks) for c in found]


def _written(url: str) -> list[tuple[str, str, int]]:
    """Return the counts written to the database, as another process reads them."""
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        rows = connection.execute("SELECT org_code, reason, checks FROM password_check_counts")
        return [(o, r, int(n)) for o, r, n in rows]


def test_a_tally_writes_its_counts_after_its_delay_without_any_reader(sqlite_store: Store) -> None:
    url = str(sqlite_store.engine.url)
    tally = CheckTally(sqlite_store, seconds=0.2)
    for reason in ("accepted", "breached", "breached"):
        tally.add("RAL", reason)
    assert _written(url) == []  # not yet: held in this process
    deadline = time.monotonic() + 10
    while not _written(url) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(_written(url)) == [("RAL", "accepted", 1), ("RAL", "breached", 2)]
    tally.add("RAL", "accepted")  # a second round adds to the same row
    tally.flush()
    assert sorted(_written(url)) == [("RAL", "accepted", 2), ("RAL", "breached", 2)]


def test_a_reader_in_the_same_process_sees_every_pending_count(sqlite_store: Store) -> None:
    tally = CheckTally(sqlite_store, seconds=3600)
    tally.add("RAL", "too_short")
    assert _counts(sqlite_store) == [("RAL", "too_short", 1)]
    tally.flush()  # nothing left to write twice
    assert _counts(sqlite_store) == [("RAL", "too_short", 1)]


def test_counts_that_cannot_be_written_are_kept_for_the_next_write(
    sqlite_store: Store, tmp_path: Path
) -> None:
    empty = Store.from_url(f"sqlite:///{tmp_path / 'no-schema.db'}")  # no table to write to
    tally = CheckTally(empty, seconds=3600)
    tally.add("RAL", "breached")
    tally.flush()  # fails: logged, kept
    assert tally.take().total() == 1
    empty.dispose()


def test_the_app_writes_what_its_last_second_counted_when_it_shuts_down(
    sqlite_store: Store, tmp_path: Path
) -> None:
    app = create_app(sqlite_store, Settings(data_dir=tmp_path))
    url = str(sqlite_store.engine.url)
    written: list[list[tuple[str, str, int]]] = []

    def between() -> None:  # the app is up: a check is counted, not yet written
        app.state.check_tally.seconds = 3600
        app.state.check_tally.add("RAL", "accepted")
        written.append(_written(url))

    asyncio.run(run_lifespan(app, between))  # startup, then shutdown, as uvicorn runs them
    assert written == [[]]
    assert _written(url) == [("RAL", "accepted", 1)]
