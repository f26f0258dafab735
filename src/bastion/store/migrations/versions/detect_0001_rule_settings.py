"""detect: rules enabled or disabled per rule and per organisation

Create Date: 2026-12-01 09:00:00
"""

from alembic import op

from bastion.store.migrations.helpers import (
    boolean,
    drop_table,
    id_column,
    org_code,
    primary_key,
    string,
    unique,
    utc,
)

revision: str = "detect_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    op.create_table(
        "detect_rule_settings",
        id_column(),
        string("rule_id", 64),
        org_code(),
        boolean("enabled"),
        utc("updated_at"),
        primary_key("detect_rule_settings"),
        unique("detect_rule_settings", "rule_id", "org_code"),
    )


def downgrade() -> None:
    drop_table("detect_rule_settings")
