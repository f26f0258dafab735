"""correlation: the open windows of correlation rules, per state partition

Revision ID: correlation_0001
Revises: 0003
Create Date: 2026-12-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op

from bastion.store.migrations.helpers import drop_table, primary_key, utc

revision: str = "correlation_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    op.create_table(
        "correlation_state",
        sa.Column("partition", sa.String(length=100), nullable=False),
        sa.Column("rule_key", sa.String(length=300), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        utc("watermark", nullable=True),
        sa.Column("next_seq", sa.BigInteger(), nullable=False),
        sa.Column("batches", sa.BigInteger(), nullable=False),
        utc("updated_at"),
        primary_key("correlation_state", "partition", "rule_key"),
    )


def downgrade() -> None:
    drop_table("correlation_state")
