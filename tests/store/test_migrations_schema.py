"""The migrations build exactly the recorded schema, on SQLite and on PostgreSQL.

Migrations may already have run on real databases, so what they emit must not
change by a byte when their code is tidied. Each test migrates an empty
database up to the heads and down to the base, recording every DDL statement
sent to the database on the way, and reads the schema it built back from the
catalogue (``sqlite_master``; PostgreSQL's columns, constraints, indexes,
triggers and functions). All of it must equal the golden file in
``tests/store/schema_golden/``.

The golden files were recorded from the migrations as first written. Only a new
migration may change them; regenerate with::

    BASTION_REGEN_SCHEMA_GOLDEN=1 .venv/bin/pytest tests/store/test_migrations_schema.py

and review the diff: lines may be added, never changed or removed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, text

from bastion.store import Store, downgrade, upgrade

GOLDEN = Path(__file__).parent / "schema_golden"
REGENERATE = os.environ.get("BASTION_REGEN_SCHEMA_GOLDEN", "") == "1"
DDL_VERBS = ("CREATE", "ALTER", "DROP")

_POSTGRES_CATALOGUE = {
    "columns": """
        SELECT table_name, ordinal_position, column_name, data_type, character_maximum_length,
               is_nullable, column_default
        FROM information_schema.columns WHERE table_schema = 'public'
        ORDER BY table_name, ordinal_position""",
    "constraints": """
        SELECT rel.relname, con.conname, con.contype, pg_get_constraintdef(con.oid)
        FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid
        JOIN pg_namespace ns ON ns.oid = rel.relnamespace WHERE ns.nspname = 'public'
        ORDER BY rel.relname, con.conname""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
        ORDER BY tablename, indexname""",
    "triggers": """
        SELECT rel.relname, tg.tgname, pg_get_triggerdef(tg.oid)
        FROM pg_trigger tg JOIN pg_class rel ON rel.oid = tg.tgrelid
        JOIN pg_namespace ns ON ns.oid = rel.relnamespace
        WHERE ns.nspname = 'public' AND NOT tg.tgisinternal ORDER BY rel.relname, tg.tgname""",
    "functions": """
        SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p
        JOIN pg_namespace ns ON ns.oid = p.pronamespace WHERE ns.nspname = 'public'
        ORDER BY p.proname""",
}


def _rows(conn: Connection, sql: str) -> list[list[Any]]:
    return [list(row) for row in conn.execute(text(sql)).all()]


def _catalogue(engine: Engine) -> dict[str, list[list[Any]]]:
    """Return the schema the database holds, read from its own catalogue."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            sql = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"
            return {"sqlite_master": _rows(conn, sql)}
        return {name: _rows(conn, sql) for name, sql in _POSTGRES_CATALOGUE.items()}


def _record(engine: Engine) -> dict[str, Any]:
    """Migrate ``engine`` up to the heads and down to the base; return what it emitted and built."""
    statements: list[str] = []

    def keep(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(DDL_VERBS):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", keep)
    try:
        upgrade(engine)
        up = list(statements)
        built = _catalogue(engine)
        statements.clear()
        downgrade(engine, "base")
        down = list(statements)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return {"schema": built, "upgrade_ddl": up, "downgrade_ddl": down}


def _check(dialect: str, recorded: dict[str, Any]) -> None:
    path = GOLDEN / f"{dialect}.json"
    if REGENERATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(recorded, indent=1, default=str) + "\n", encoding="utf-8")
    golden = json.loads(path.read_text(encoding="utf-8"))
    recorded = json.loads(json.dumps(recorded, default=str))
    for part in ("schema", "upgrade_ddl", "downgrade_ddl"):
        assert recorded[part] == golden[part], f"{dialect} {part} differs from {path}"


def test_sqlite_migrations_emit_and_build_the_recorded_schema(tmp_path: Path) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path / 'schema.db'}")
    try:
        _check("sqlite", _record(store.engine))
    finally:
        store.dispose()


@pytest.mark.postgres
def test_postgres_migrations_emit_and_build_the_recorded_schema(postgres_url: str) -> None:
    store = Store.from_url(postgres_url)
    try:
        _check("postgres", _record(store.engine))
    finally:
        store.dispose()
