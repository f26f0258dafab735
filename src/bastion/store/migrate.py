"""Alembic migrations, driven from code (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """Return an Alembic config bound to ``engine``."""
    from alembic.config import Config  # imported here: Alembic costs half a second at start-up

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Migrate the database to ``revision`` (default: the newest of every branch).

    Each context grows its own branch of revisions from the shared trunk (``0003``),
    named ``<context>_NNNN``, so contexts add tables without contending for one chain.
    """
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database down to ``revision``."""
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def is_migrated(engine: Engine) -> bool:
    """Tell whether the database has been migrated at least once."""
    return inspect(engine).has_table("alembic_version")
