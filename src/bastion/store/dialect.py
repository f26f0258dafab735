"""SQL expressions written once for both backends: UTC days, seconds between two times, order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, cast, func, literal_column
from sqlalchemy.orm import Session


def is_postgres(session: Session) -> bool:
    """Whether ``session`` talks to PostgreSQL (else SQLite)."""
    return session.get_bind().dialect.name == "postgresql"


def utc_day(session: Session, moment: Any) -> Any:
    """Return the SQL expression of the UTC day of the timestamp column ``moment``."""
    if is_postgres(session):
        return func.date(func.timezone(literal_column("'UTC'"), moment))
    return func.date(moment)


def seconds_between(session: Session, later: Any, earlier: Any) -> Any:
    """Return the SQL expression of ``later - earlier`` in seconds (a float), on either backend."""
    if is_postgres(session):
        return cast(func.extract("epoch", later - earlier), Float)  # numeric: a Decimal each
    return (func.julianday(later) - func.julianday(earlier)) * 86_400.0


def in_byte_order(session: Session, *columns: Any) -> list[Any]:
    """``columns`` compared by code point on either backend, as Python and SQLite compare
    strings (PostgreSQL's collation would not)."""
    return [c.collate("C") if is_postgres(session) else c for c in columns]
