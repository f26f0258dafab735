"""scan: findings in normal form, exceptions, per-organisation policies, target state, canary hits

Revision ID: scan_0001
Revises: 0003
Create Date: 2026-12-06 23:40:00
"""

from bastion.store.migrations.helpers import (
    boolean,
    create_table,
    date,
    drop_table,
    integer,
    json,
    org_code,
    org_table,
    string,
    text,
    utc,
)

revision: str = "scan_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    org_table(
        "scan_findings",
        string("host", 253),
        integer("port"),
        string("check_name", 32),
        string("detail", 200),
        string("title", 300),
        string("severity", 16),
        string("status", 24),
        string("remediation", 64),
        json("params"),
        json("evidence"),
        json("seen_at"),
        utc("first_seen"),
        utc("last_seen"),
        utc("status_changed_at"),
        boolean("alert_raised"),
        unique=[("org_code", "host", "port", "check_name", "detail")],
        indexes=["severity", "status"],
    )
    org_table(
        "scan_exceptions",
        string("host", 253),
        string("check_name", 32, nullable=True),
        text("reason"),
        date("expires_on"),
        string("state", 16),
        string("requested_by", 120),
        string("decided_by", 120, nullable=True),
        utc("created_at"),
    )
    create_table(
        "scan_policies",
        org_code(),
        boolean("scan_ranges"),
        boolean("high_risk"),
        string("quiet_hours", 16, nullable=True),
        utc("updated_at"),
        unique=[("org_code",)],
    )
    create_table(
        "scan_targets",
        org_code(),
        string("host", 253),
        utc("last_scan_at", nullable=True),
        utc("due_at", nullable=True),
        string("due_reason", 200),
        json("summary"),
        unique=[("org_code", "host")],
    )
    create_table(
        "scan_canary_hits",
        string("token", 64),
        string("qname", 253),
        string("source", 64),
        utc("at"),
        indexes=["token"],
    )


def downgrade() -> None:
    drop_table("scan_canary_hits", "token")
    drop_table("scan_targets")
    drop_table("scan_policies")
    drop_table("scan_exceptions", "org_code")
    drop_table("scan_findings", "org_code", "severity", "status")
