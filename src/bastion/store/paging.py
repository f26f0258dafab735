"""One page of a query's rows, and how many rows the query has in all."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, ColumnExpressionArgument, Select, func, or_, select
from sqlalchemy.orm import Session

T = TypeVar("T")


def contains_text(search: str, *columns: ColumnExpressionArgument[str]) -> ColumnElement[bool]:
    """Return the condition that one of ``columns`` contains ``search`` (stripped), in any case."""
    pattern = f"%{search.strip().lower()}%"
    return or_(*(func.lower(column).like(pattern) for column in columns))


def page_of(
    session: Session, query: Select[T], *order: Any, limit: int | None, offset: int
) -> tuple[list[T], int]:
    """Return the rows of ``query`` in ``order`` from ``offset`` (``limit`` of them, or all),
    and the count of every row ``query`` matches, whatever the page.
    """
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(*order).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    return list(session.scalars(page)), total
