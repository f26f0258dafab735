"""detect: the built-in checks' thresholds, for everyone or per organisation

A row sets one threshold (``ports`` of ``builtin:port-scan``, ``bytes`` of
``builtin:exfiltration``) for every organisation (``org_code`` "") or for one; a
threshold with no row is the check's national default.

Revision ID: detect_0002
Revises: detect_0001
Create Date: 2026-12-07 05:30:00
"""

from alembic import op

from bastion.store.migrations.helpers import (
    big_integer,
    drop_table,
    id_column,
    org_code,
    primary_key,
    string,
    unique,
    utc,
)

revision: str = "detect_0002"
down_revision: str | None = "detect_0001"


def upgrade() -> None:
    op.create_table(
        "detect_rule_thresholds",
        id_column(),
        string("rule_id", 64),
        org_code(),
        string("name", 32),
        big_integer("value"),
        utc("updated_at"),
        primary_key("detect_rule_thresholds"),
        unique("detect_rule_thresholds", "rule_id", "org_code", "name"),
    )


def downgrade() -> None:
    drop_table("detect_rule_thresholds")
