from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from sqlalchemy.orm import Session

from bastion.alerts import list_alerts, record_alerts
from bastion.boundary.checkpoints import (
    batch_done,
    get_checkpoint,
    list_sources,
    mark_batch,
    save_checkpoint,
)
from bastion.core.errors import ConflictError, InputError
from bastion.store import Store

KEY = "sha256:" + "ab" * 32


def test_checkpoint_round_trip_and_update(store: Store) -> None:
    with store.session() as session:
        assert get_checkpoint(session, KEY) is None
        save_checkpoint(
            session,
            KEY,
            path="/logs/a.log",
            format="zeek-tsv",
            offset=4096,
            size=10_000,
            done=False,
        )
    with store.session() as session:
        first = get_checkpoint(session, KEY)
        assert first is not None
        assert (first.path, first.format, first.offset, first.size, first.done) == (
            "/logs/a.log",
            "zeek-tsv",
            4096,
            10_000,
            False,
        )
        assert first.updated_at.tzinfo is not None
        save_checkpoint(
            session,
            KEY,
            path="/logs/moved.log",
            format="zeek-tsv",
            offset=10_000,
            size=10_000,
            done=True,
        )
    with store.session() as session:
        final = get_checkpoint(session, KEY)
        assert final is not None
        assert (final.path, final.offset, final.done) == ("/logs/moved.log", 10_000, True)
        assert [c.key for c in list_sources(session)] == [KEY]


def test_offset_beyond_32_bits_stream_without_size_and_negative_refused(
    store: Store,
) -> None:
    big = 5 * 2**32
    with store.session() as session:
        save_checkpoint(
            session, "nats:fw", path="nats:fw", format="syslog", offset=big, size=None, done=False
        )
    with store.session() as session:
        found = get_checkpoint(session, "nats:fw")
        assert found is not None
        assert (found.offset, found.size) == (big, None)
        with pytest.raises(InputError, match="must not be negative"):
            save_checkpoint(session, KEY, path="a", format="f", offset=-1, size=None, done=False)


def test_list_sources_most_recent_first(store: Store) -> None:
    with store.session() as session:
        for key in ("older", "newer"):
            save_checkpoint(session, key, path=key, format="csv", offset=0, size=0, done=True)
        assert [c.key for c in list_sources(session)] == ["newer", "older"]


def test_mark_batch_then_batch_done(store: Store) -> None:
    with store.session() as session:
        assert not batch_done(session, "b-1")
        mark_batch(session, "b-1", source_key=KEY, events=10, rejects=2)
    with store.session() as session:
        assert batch_done(session, "b-1")
        assert not batch_done(session, "b-2")


def test_marking_a_batch_twice_conflicts_and_rolls_back_its_alerts(store: Store) -> None:
    candidates = pl.DataFrame(
        {
            "organization.id": ["R0A"],
            "host.ip": ["10.1.0.5"],
            "@timestamp": [datetime(2024, 3, 1, tzinfo=UTC)],
            "kind": ["rule"],
            "key": ["sigma-1"],
            "title": ["Suspicious DNS"],
            "severity": ["medium"],
            "blocked": [False],
        }
    )

    def process() -> None:
        with store.session() as session:
            mark_batch(session, "b-1", source_key=KEY, events=1, rejects=0)
            record_alerts(session, candidates)
            save_checkpoint(session, KEY, path="a", format="f", offset=10, size=10, done=True)

    process()
    # A worker that missed batch_done (a race on a redelivered batch) fails and rolls back.
    with pytest.raises(ConflictError, match="already processed"):
        process()
    with store.session() as session:
        [alert], total = list_alerts(session)
    assert (total, alert.count) == (1, 1)


@pytest.mark.postgres
def test_two_workers_saving_a_new_sources_checkpoint_at_once_both_commit(
    postgres_store: Store,
) -> None:
    """The second insert of one new source waits for the first, then updates its row."""
    import threading

    def save(session: Session, offset: int) -> None:
        save_checkpoint(
            session, KEY, path="syslog://edge", format="panos", offset=offset, size=None, done=False
        )

    errors: list[BaseException] = []
    with postgres_store.session() as first:
        save(first, 100)  # inserted, not committed yet …

        def second() -> None:
            try:
                with postgres_store.session() as session:
                    save(session, 200)  # … so this insert waits for it
            except BaseException as exc:  # the thread's failure is the test's
                errors.append(exc)

        other = threading.Thread(target=second)
        other.start()
        other.join(timeout=1.0)
        assert other.is_alive()  # blocked on the first's uncommitted row
    other.join(timeout=30)
    assert errors == []
    with postgres_store.session() as session:
        saved = get_checkpoint(session, KEY)
        assert saved is not None
        assert saved.offset == 200
