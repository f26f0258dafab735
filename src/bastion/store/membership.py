"""``column`` is one of a list of values, the list bound as one parameter.

A tenancy filter names the caller's organisations: a hundred for a member of a
hundred. ``column.in_(codes)`` binds each code as a parameter of its own, so every
query is compiled with a hundred placeholders, the driver parses a text too long to
cache and PostgreSQL plans it anew. ``one_of(column, codes)`` binds the list once:
``column = ANY(:values)`` with a text array on PostgreSQL, ``column IN (SELECT value
FROM json_each(:values))`` with a JSON array on SQLite. Both use the column's index
as the expanded list does, and an empty list matches nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Boolean, String, TypeDecorator, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeEngine


class _Values(TypeDecorator[list[str]]):
    """A list of strings as one parameter: a text array on PostgreSQL, JSON text elsewhere."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(String()))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return json.dumps(value)


class OneOf(ColumnElement[bool]):
    """``column`` equals one of ``values`` (see the module's docstring)."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition, not a boolean column (SQLite: no "= 1")
    _traverse_internals = [  # noqa: RUF012  (SQLAlchemy's protocol: a class-level list)
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], values: Iterable[str]) -> None:
        self.column = column
        self.values: BindParameter[list[str]] = bindparam(None, list(values), type_=_Values())


def one_of(column: Any, values: Iterable[str]) -> ColumnElement[bool]:
    """Return the condition that ``column`` is one of ``values``, bound as one parameter."""
    return OneOf(column, values)


@compiles(OneOf, "postgresql")
def _any(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    return (
        f"{compiler.process(element.column, **kw)} = ANY({compiler.process(element.values, **kw)})"
    )


@compiles(OneOf)
def _json_each(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    return f"{column} IN (SELECT value FROM json_each({values}))"
