from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import bastion.models  # noqa: F401
from bastion.store import Base, Store, downgrade, is_migrated, upgrade


def test_models_and_migrations_do_not_drift(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == [], f"models differ from migrations; write a migration: {diff}"


def test_migrations_downgrade_to_base_and_back(store: Store) -> None:
    downgrade(store.engine, "base")
    assert not inspect(store.engine).has_table("organisations")
    upgrade(store.engine)
    assert is_migrated(store.engine)
    assert inspect(store.engine).has_table("organisations")


def test_sqlite_store_uses_wal(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.postgres
def test_postgres_store_is_really_postgres(postgres_store: Store) -> None:
    assert postgres_store.engine.dialect.name == "postgresql"
