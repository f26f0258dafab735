"""``insert_rows`` writes what SQLAlchemy itself would: the same stored text for times and JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, create_engine, text

from bastion.store.bulk import insert_rows

TABLE = Table(
    "things",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String(20)),
    Column("at", DateTime),
    Column("doc", JSON),
)


def test_bulk_rows_are_stored_as_sqlalchemy_stores_them() -> None:
    engine = create_engine("sqlite://")
    TABLE.metadata.create_all(engine)
    moments = [
        datetime(2026, 12, 7, 5, 4, 3, 123456, tzinfo=UTC),
        datetime(2026, 12, 7, 5, 4, 3, tzinfo=UTC),  # no microseconds: still written as .000000
        datetime(2026, 12, 7, 6, 4, 3, 7, tzinfo=timezone(timedelta(hours=1))),  # to UTC first
        None,
    ]
    rows = [
        {"id": i, "name": f"n{i}", "at": at, "doc": None if at is None else {"i": i, "l": [1]}}
        for i, at in enumerate(moments)
    ]
    with engine.begin() as connection:
        insert_rows(connection, TABLE, rows)
        naive = [
            {
                **r,
                "id": r["id"] + 100,
                "at": r["at"] and r["at"].astimezone(UTC).replace(tzinfo=None),
            }
            for r in rows
        ]
        connection.execute(TABLE.insert(), naive)  # SQLAlchemy's own way, for comparison
        stored = connection.execute(text("SELECT id, name, at, doc FROM things ORDER BY id")).all()
    bulk, orm = stored[: len(rows)], stored[len(rows) :]
    # The same text, but for a missing document: SQL NULL in bulk, JSON's null from SQLAlchemy
    # (both read back as None).
    assert [tuple(r)[1:] for r in bulk[:3]] == [tuple(r)[1:] for r in orm[:3]]
    assert tuple(bulk[3])[1:] == ("n3", None, None)
    assert bulk[1].at == "2026-12-07 05:04:03.000000"
    assert bulk[2].at == "2026-12-07 05:04:03.000007"
