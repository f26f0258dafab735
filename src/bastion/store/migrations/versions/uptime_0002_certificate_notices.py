"""uptime: certificates found expiring, one notice per organisation, certificate and threshold

Revision ID: uptime_0002
Revises: uptime_0001
Create Date: 2026-12-07 02:30:00
"""

from bastion.store.migrations.helpers import (
    drop_table,
    integer,
    org_table,
    real,
    string,
    utc,
)

revision: str = "uptime_0002"
down_revision: str | None = "uptime_0001"


def upgrade() -> None:
    org_table(
        "uptime_certificate_notices",
        string("sha256", 64),
        integer("threshold_days"),
        integer("monitor_id"),
        real("days_left"),
        utc("notified_at"),
        references={"monitor_id": "uptime_monitors"},
        ondelete="CASCADE",
        unique=[("org_code", "sha256", "threshold_days")],
        indexes=["monitor_id"],
    )


def downgrade() -> None:
    drop_table("uptime_certificate_notices", "org_code", "monitor_id")
