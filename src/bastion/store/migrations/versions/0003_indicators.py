"""indicators: threat indicators, one row per source's listing

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bastion.store.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("confidence", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("threat", sa.String(length=200), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("first_seen", bastion.store.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_seen", bastion.store.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("valid_until", bastion.store.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicators")),
        sa.UniqueConstraint("type", "value", "source", name=op.f("uq_indicators_type")),
    )
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indicators_valid_until"), ["valid_until"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicators_valid_until"))

    op.drop_table("indicators")
