"""detect: the built-in checks' thresholds, for everyone or per organisation

A row sets one threshold (``ports`` of ``builtin:port-scan``, ``bytes`` of
``builtin:exfiltration``) for every organisation (``org_code`` "") or for one; a
threshold with no row is the check's national default.

Revision ID: detect_0002
Revises: detect_0001
Create Date: 2026-12-07 05:30:00
"""

from bastion.store.migrations.helpers import (
    big_integer,
    create_table,
    drop_table,
    org_code,
    string,
    utc,
)

revision: str = "detect_0002"
down_revision: str | None = "detect_0001"


def upgrade() -> None:
    create_table(
        "detect_rule_thresholds",
        string("rule_id", 64),
        org_code(),
        string("name", 32),
        big_integer("value"),
        utc("updated_at"),
        unique=[("rule_id", "org_code", "name")],
    )


def downgrade() -> None:
    drop_table("detect_rule_thresholds")
