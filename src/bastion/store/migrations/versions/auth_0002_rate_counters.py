"""auth: windowed rate-limit counters shared by every server process

Revision ID: auth_0002
Revises: auth_0001
Create Date: 2026-12-01 12:00:00
"""

import sqlalchemy as sa
from alembic import op

from bastion.store.migrations.helpers import drop_table, primary_key

revision: str = "auth_0002"
down_revision: str | None = "auth_0001"


def upgrade() -> None:
    op.create_table(
        "auth_rate_counters",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        primary_key("auth_rate_counters", "scope", "key", "bucket"),
    )


def downgrade() -> None:
    drop_table("auth_rate_counters")
