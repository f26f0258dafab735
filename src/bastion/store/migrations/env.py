"""Alembic environment: runs against the engine handed over in the config."""

from __future__ import annotations

from alembic import context

import bastion.models  # noqa: F401  (registers every context's tables)
from bastion.store.base import Base
from bastion.store.engine import make_engine

config = context.config
engine = config.attributes.get("engine") or make_engine(
    config.get_main_option("sqlalchemy.url") or ""
)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
