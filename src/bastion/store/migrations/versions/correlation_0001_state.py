"""correlation: the open windows of correlation rules, per state partition

Revision ID: correlation_0001
Revises: 0003
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bastion.store.base

revision: str = "correlation_0001"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "correlation_state",
        sa.Column("partition", sa.String(length=100), nullable=False),
        sa.Column("rule_key", sa.String(length=300), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("watermark", bastion.store.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("next_seq", sa.BigInteger(), nullable=False),
        sa.Column("batches", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("partition", "rule_key", name=op.f("pk_correlation_state")),
    )


def downgrade() -> None:
    op.drop_table("correlation_state")
