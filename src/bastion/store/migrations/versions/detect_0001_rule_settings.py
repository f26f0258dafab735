"""detect: rules enabled or disabled per rule and per organisation

Create Date: 2026-12-01 09:00:00
"""

from bastion.store.migrations.helpers import (
    boolean,
    create_table,
    drop_table,
    org_code,
    string,
    utc,
)

revision: str = "detect_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    create_table(
        "detect_rule_settings",
        string("rule_id", 64),
        org_code(),
        boolean("enabled"),
        utc("updated_at"),
        unique=[("rule_id", "org_code")],
    )


def downgrade() -> None:
    drop_table("detect_rule_settings")
