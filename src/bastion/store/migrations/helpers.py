"""Build the tables, columns, constraints and indexes the migrations write again and again.

A table is made in one call: :func:`create_table` (keyed on an integer ``id`` unless
given a key), :func:`org_table` for rows of one organisation, :func:`child_table` for
rows of one parent row; each adds its keys, foreign keys, unique constraints and indexes.
Each factory returns exactly what Alembic's autogenerate wrote out by hand: the
same type, the same ``nullable``, the same constraint and index names under the
store's naming convention. A migration that has run on a real database must emit
the same DDL for ever, so a factory here never changes what it returns;
``tests/store/test_migrations_schema.py`` holds every statement to a recorded copy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from alembic import op
from sqlalchemy.types import TypeEngine

from bastion.store.base import UtcDateTime

IndexSpec = str | tuple[str, Sequence[str]]
"""A column name (index ``ix_<table>_<column>`` on it), or an explicit name and its columns."""


def utc(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """Return a timezone-aware UTC timestamp column."""
    return sa.Column(name, UtcDateTime(timezone=True), nullable=nullable)


def string(name: str, length: int, *, nullable: bool = False) -> sa.Column[object]:
    """Return a ``VARCHAR(length)`` column."""
    return sa.Column(name, sa.String(length=length), nullable=nullable)


class ColumnOf(Protocol):
    """A factory of columns of one type: ``integer("count")``, ``json("tags", nullable=True)``."""

    def __call__(self, name: str, *, nullable: bool = False) -> sa.Column[object]: ...


def _column_of(type_: Callable[[], TypeEngine[Any]]) -> ColumnOf:
    def column(name: str, *, nullable: bool = False) -> sa.Column[object]:
        return sa.Column(name, type_(), nullable=nullable)

    return column


text = _column_of(sa.Text)
integer = _column_of(sa.Integer)
big_integer = _column_of(sa.BigInteger)
boolean = _column_of(sa.Boolean)
real = _column_of(sa.Float)
date = _column_of(sa.Date)
json = _column_of(sa.JSON)


def org_code(*, nullable: bool = False, length: int = 16) -> sa.Column[object]:
    """Return the ``org_code`` column naming the organisation a row belongs to."""
    return string("org_code", length, nullable=nullable)


def created_updated() -> tuple[sa.Column[object], sa.Column[object]]:
    """Return the ``created_at`` and ``updated_at`` timestamp columns, in that order."""
    return utc("created_at"), utc("updated_at")


def delivery_columns() -> tuple[sa.Column[object], ...]:
    """Return the columns recording one message sent (:mod:`bastion.core.delivery`), in order.

    ``recipient``, ``status`` (sent or failed), ``attempts`` made and the last ``error``.
    """
    return string("recipient", 500), string("status", 16), integer("attempts"), string("error", 500)


def _primary_key(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    """Return the primary key ``pk_<table>`` on ``columns`` (default: ``id``)."""
    return sa.PrimaryKeyConstraint(*(columns or ("id",)), name=op.f(f"pk_{table}"))


def _unique(table: str, *columns: str) -> sa.UniqueConstraint:
    """Return the unique constraint ``uq_<table>_<first column>`` on ``columns``."""
    return sa.UniqueConstraint(*columns, name=op.f(f"uq_{table}_{columns[0]}"))


def _foreign_key(
    table: str, column: str, target: str, *, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    """Return the foreign key ``fk_<table>_<column>_<target>`` from ``column`` to ``target.id``."""
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def create_indexes(table: str, *specs: IndexSpec) -> None:
    """Create the non-unique indexes ``specs`` on ``table``, in order."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for spec in specs:
            if isinstance(spec, str):
                batch_op.create_index(batch_op.f(f"ix_{table}_{spec}"), [spec], unique=False)
            else:
                batch_op.create_index(spec[0], list(spec[1]), unique=False)


def create_table(
    table: str,
    *columns: sa.Column[object],
    key: Sequence[str] = (),
    references: Mapping[str, str] | None = None,
    ondelete: str | None = None,
    unique: Sequence[Sequence[str]] = (),
    indexes: Sequence[IndexSpec] = (),
) -> None:
    """Create ``table`` with its ``columns``, its keys and constraints, then its indexes.

    ``key`` names the primary key's columns; a table without one is keyed on an integer
    ``id``, its first column. ``references`` maps a column to the table whose ``id`` it
    holds (each foreign key deleting ``ondelete``); ``unique`` lists the columns of each
    unique constraint; ``indexes`` are created after, in order (:func:`create_indexes`).
    The constraints are made in the order the DDL lists them: foreign keys, then unique.
    """
    op.create_table(
        table,
        *(() if key else (integer("id"),)),
        *columns,
        *(
            _foreign_key(table, column, target, ondelete=ondelete)
            for column, target in (references or {}).items()
        ),
        _primary_key(table, *key),
        *(_unique(table, *names) for names in unique),
    )
    if indexes:
        create_indexes(table, *indexes)


def org_table(
    table: str,
    *columns: sa.Column[object],
    org: sa.Column[object] | None = None,
    references: Mapping[str, str] | None = None,
    ondelete: str | None = None,
    unique: Sequence[Sequence[str]] = (),
    indexes: Sequence[IndexSpec] = (),
) -> None:
    """Create a table whose rows each belong to an organisation (see :func:`create_table`).

    After its ``id`` comes the ``org_code`` (``org``: that column when it is not the
    usual :func:`org_code`), and the first index is on it, before ``indexes``.
    """
    create_table(
        table,
        org if org is not None else org_code(),
        *columns,
        references=references,
        ondelete=ondelete,
        unique=unique,
        indexes=["org_code", *indexes],
    )


def child_table(
    table: str,
    column: str,
    parent: str,
    *columns: sa.Column[object],
    unique: Sequence[Sequence[str]] = (),
    indexes: Sequence[IndexSpec] = (),
) -> None:
    """Create a table whose rows each belong to one row of ``parent`` (see :func:`create_table`).

    After its ``id`` comes ``column``, the ``id`` of that row: indexed first, before
    ``indexes``, and its rows go with the parent's (``ON DELETE CASCADE``).
    """
    create_table(
        table,
        integer(column),
        *columns,
        references={column: parent},
        ondelete="CASCADE",
        unique=unique,
        indexes=[column, *indexes],
    )


def drop_indexes(table: str, *specs: IndexSpec) -> None:
    """Drop the indexes ``specs`` from ``table``, in order."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for spec in specs:
            if isinstance(spec, str):
                batch_op.drop_index(batch_op.f(f"ix_{table}_{spec}"))
            else:
                batch_op.drop_index(spec[0])  # the columns say which index it is, not its name


def drop_table(table: str, *indexes: IndexSpec) -> None:
    """Drop ``indexes`` (in order), then ``table`` itself."""
    if indexes:
        drop_indexes(table, *indexes)
    op.drop_table(table)


def append_only(table: str, message: str) -> None:
    """Make the database itself refuse to change or remove a row of ``table``."""
    refuse = f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    guards = {
        "sqlite": (
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} {refuse}",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {refuse}",
        ),
        "postgresql": (
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
        ),
    }
    for statement in guards.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def drop_append_only(table: str) -> None:
    """Drop what :func:`append_only` left behind once ``table`` is gone (PostgreSQL's function)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")


def adv_audit_columns() -> tuple[sa.Column[object], ...]:
    """Return the columns of the advisories' own audit table, ``adv_audit``, after its ``id``.

    ``advisories_0001`` creates it; ``audit_0001`` moves its rows into the one trail
    and recreates it on the way down, with these same columns.
    """
    return (
        utc("at"),
        string("actor", 200),
        string("action", 64),
        string("entity", 64),
        string("entity_id", 64),
        json("before", nullable=True),
        json("after", nullable=True),
    )
