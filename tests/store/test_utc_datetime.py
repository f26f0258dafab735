"""``UtcDateTime`` reads back every timestamp as the same instant, in UTC, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text

from bastion.store import Store
from bastion.store.base import UtcDateTime

SENT = [
    datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),  # an offset: converted
    datetime(2026, 1, 2, 3, 4, 5),  # naive: taken as UTC
    None,
]


def test_timestamps_come_back_as_the_same_instants_in_utc(store: Store) -> None:
    table = Table(
        "utc_probe", MetaData(), Column("id", Integer, primary_key=True), Column("at", UtcDateTime)
    )
    table.create(store.engine)
    try:
        with store.engine.begin() as conn:
            conn.execute(insert(table), [{"at": value} for value in SENT])
            read = conn.execute(select(table.c.at).order_by(table.c.id)).scalars().all()
    finally:
        table.drop(store.engine)
    expected = [None if v is None else v.replace(tzinfo=v.tzinfo or UTC) for v in SENT]
    assert read == expected
    assert all(v is None or v.tzinfo is UTC for v in read)


def test_sqlite_text_written_by_hand_is_read_as_utc(sqlite_store: Store) -> None:
    """Text another writer left (no fraction, an ISO ``T`` and an offset) reads as its instant."""
    table = Table(
        "utc_text", MetaData(), Column("id", Integer, primary_key=True), Column("at", UtcDateTime)
    )
    table.create(sqlite_store.engine)
    with sqlite_store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO utc_text (at) VALUES ('2026-01-02 03:04:05'), ('2026-01-02T03:04:05+01:00')"
            )
        )
        read = conn.execute(select(table.c.at).order_by(table.c.id)).scalars().all()
    assert read == [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 2, 4, 5, tzinfo=UTC),
    ]
