"""uptime: certificates found expiring, one notice per organisation, certificate and threshold

Revision ID: uptime_0002
Revises: uptime_0001
Create Date: 2026-12-07 02:30:00
"""

from alembic import op

from bastion.store.migrations.helpers import (
    create_indexes,
    drop_table,
    foreign_key,
    id_column,
    integer,
    org_code,
    primary_key,
    real,
    string,
    unique,
    utc,
)

revision: str = "uptime_0002"
down_revision: str | None = "uptime_0001"


def upgrade() -> None:
    op.create_table(
        "uptime_certificate_notices",
        id_column(),
        org_code(),
        string("sha256", 64),
        integer("threshold_days"),
        integer("monitor_id"),
        real("days_left"),
        utc("notified_at"),
        foreign_key(
            "uptime_certificate_notices", "monitor_id", "uptime_monitors", ondelete="CASCADE"
        ),
        primary_key("uptime_certificate_notices"),
        unique("uptime_certificate_notices", "org_code", "sha256", "threshold_days"),
    )
    create_indexes("uptime_certificate_notices", "org_code", "monitor_id")


def downgrade() -> None:
    drop_table("uptime_certificate_notices", "org_code", "monitor_id")
