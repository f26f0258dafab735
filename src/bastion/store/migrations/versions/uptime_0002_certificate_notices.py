"""uptime: certificates found expiring, one notice per organisation, certificate and threshold

Revision ID: uptime_0002
Revises: uptime_0001
Create Date: 2026-12-07 02:30:00
"""

from bastion.store.migrations.helpers import (
    create_table,
    drop_table,
    integer,
    org_code,
    real,
    string,
    utc,
)

revision: str = "uptime_0002"
down_revision: str | None = "uptime_0001"


def upgrade() -> None:
    create_table(
        "uptime_certificate_notices",
        org_code(),
        string("sha256", 64),
        integer("threshold_days"),
        integer("monitor_id"),
        real("days_left"),
        utc("notified_at"),
        references={"monitor_id": "uptime_monitors"},
        ondelete="CASCADE",
        unique=[("org_code", "sha256", "threshold_days")],
        indexes=["org_code", "monitor_id"],
    )


def downgrade() -> None:
    drop_table("uptime_certificate_notices", "org_code", "monitor_id")
