"""detect: rules enabled or disabled per rule and per organisation

Revision ID: detect_0001
Revises: 0003
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bastion.store.base

revision: str = "detect_0001"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "detect_rule_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("org_code", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detect_rule_settings")),
        sa.UniqueConstraint("rule_id", "org_code", name=op.f("uq_detect_rule_settings_rule_id")),
    )


def downgrade() -> None:
    op.drop_table("detect_rule_settings")
