"""detect: rules enabled or disabled per rule and per organisation

Revision ID: detect_0001
Revises: 0003
Create Date: 2026-12-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op

from bastion.store.migrations.helpers import (
    drop_table,
    id_column,
    org_code,
    primary_key,
    unique,
    utc,
)

revision: str = "detect_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    op.create_table(
        "detect_rule_settings",
        id_column(),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        org_code(),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        utc("updated_at"),
        primary_key("detect_rule_settings"),
        unique("detect_rule_settings", "rule_id", "org_code"),
    )


def downgrade() -> None:
    drop_table("detect_rule_settings")
