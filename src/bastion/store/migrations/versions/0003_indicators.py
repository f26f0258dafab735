"""indicators: threat indicators, one row per source's listing

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 13:30:00
"""

import sqlalchemy as sa
from alembic import op

from bastion.store.migrations.helpers import (
    create_indexes,
    created_updated,
    drop_table,
    id_column,
    primary_key,
    unique,
    utc,
)

revision: str = "0003"
down_revision: str | None = "0002"


def upgrade() -> None:
    op.create_table(
        "indicators",
        id_column(),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("confidence", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("threat", sa.String(length=200), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        utc("first_seen", nullable=True),
        utc("last_seen", nullable=True),
        utc("valid_until", nullable=True),
        *created_updated(),
        primary_key("indicators"),
        unique("indicators", "type", "value", "source"),
    )
    create_indexes("indicators", "valid_until")


def downgrade() -> None:
    drop_table("indicators", "valid_until")
