"""Rows in bulk, on a connection's transaction, without SQLAlchemy's work per row.

``insert_rows`` converts each column's values once, by the column's type (UTC
timestamps to SQLite's stored text, JSON to its text or psycopg's adapter), and
hands the rows to the driver: one ``COPY`` on PostgreSQL, one DB-API
``executemany`` on SQLite. For the hot paths (a hundred thousand new alerts) and
the benchmarks' loads, where binding each value through SQLAlchemy cost more than
the database's own work.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, DateTime, Table


def _sqlite_stamp(value: Any) -> Any:
    """Return a datetime as SQLAlchemy stores it in SQLite, ``%Y-%m-%d %H:%M:%S.%f`` in UTC
    (by ``isoformat``, in C: ``strftime`` took three times as long)."""
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    text = value.replace(tzinfo=None).isoformat(" ")
    return text if value.microsecond else text + ".000000"  # isoformat leaves out 0 µs


def _json_text(value: Any) -> Any:
    return None if value is None else json.dumps(value)


def _json_adapted(value: Any) -> Any:
    from psycopg.types.json import Json

    return None if value is None else Json(value)


def _same(value: Any) -> Any:
    return value


def _converters(table: Table, columns: Sequence[str], postgres: bool) -> list[Callable[[Any], Any]]:
    found: list[Callable[[Any], Any]] = []
    for name in columns:
        kind = table.columns[name].type
        if isinstance(kind, JSON):
            found.append(_json_adapted if postgres else _json_text)
        elif isinstance(kind, DateTime) or isinstance(getattr(kind, "impl", None), DateTime):
            found.append(_same if postgres else _sqlite_stamp)
        else:
            found.append(_same)
    return found


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, column names of ``table``) in bulk on
    ``connection``'s transaction (committed, or not, with it)."""
    if not rows:
        return
    columns = list(rows[0])
    postgres = connection.dialect.name == "postgresql"
    convert = list(zip(columns, _converters(table, columns, postgres), strict=True))
    names = ", ".join(f'"{c}"' for c in columns)
    raw: Any = connection.connection.driver_connection
    if postgres:
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([f(row[c]) for c, f in convert])
        return
    cursor = raw.cursor()
    try:
        cursor.executemany(
            f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})",
            _values(rows, convert),
        )
    finally:
        cursor.close()


def _values(
    rows: Sequence[Mapping[str, Any]], convert: list[tuple[str, Callable[[Any], Any]]]
) -> list[list[Any]]:
    """Return each row's values in column order, converting only the columns that need it."""
    get = itemgetter(*(c for c, _ in convert))
    changed = [(i, f) for i, (_, f) in enumerate(convert) if f is not _same]
    values = []
    for row in rows:
        value = list(get(row)) if len(convert) > 1 else [get(row)]
        for i, f in changed:
            value[i] = f(value[i])
        values.append(value)
    return values
