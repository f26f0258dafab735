"""boundary: hunts saved by name, private to their owner or shared

Revision ID: boundary_0001
Revises: 0003
Create Date: 2026-12-06 21:00:00
"""

import sqlalchemy as sa
from alembic import op

from bastion.store.migrations.helpers import (
    create_indexes,
    created_updated,
    drop_table,
    id_column,
    primary_key,
)

revision: str = "boundary_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    op.create_table(
        "saved_hunts",
        id_column(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sql", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        *created_updated(),
        primary_key("saved_hunts"),
    )
    create_indexes("saved_hunts", "owner")


def downgrade() -> None:
    drop_table("saved_hunts", "owner")
