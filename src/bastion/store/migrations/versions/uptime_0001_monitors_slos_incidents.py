"""uptime: monitors, maintenance, vantage points, SLOs, burn alerts, incidents, status pages

Probe results are Parquet files (bastion.uptime.history), not rows.

Revision ID: uptime_0001
Revises: 0003
Create Date: 2026-12-06 23:30:00
"""

from bastion.store.migrations.helpers import (
    boolean,
    child_table,
    create_table,
    created_updated,
    delivery_columns,
    drop_table,
    integer,
    json,
    org_code,
    org_table,
    real,
    string,
    text,
    utc,
)

revision: str = "uptime_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    create_table(
        "uptime_monitors",
        string("name", 120),
        string("kind", 16),
        string("target", 500),
        org_code(),
        string("service", 120),
        json("tags"),
        integer("interval_s"),
        real("timeout_s"),
        integer("retries"),
        integer("quorum"),
        json("options"),
        boolean("public"),
        boolean("paused"),
        string("push_token", 64),
        utc("last_push_at", nullable=True),
        string("state", 16),
        utc("state_since", nullable=True),
        *created_updated(),
        unique=[("push_token",)],
        indexes=["org_code", "service"],
    )
    org_table(
        "uptime_maintenance",
        integer("monitor_id", nullable=True),
        string("service", 120, nullable=True),
        string("title", 200),
        utc("starts_at"),
        integer("minutes"),
        string("repeat", 16),
        references={"monitor_id": "uptime_monitors"},
        ondelete="CASCADE",
    )
    create_table(
        "uptime_agents",
        string("name", 64),
        string("location", 120),
        utc("last_seen"),
        integer("results"),
        boolean("silent"),
        unique=[("name",)],
    )
    org_table(
        "uptime_slos",
        string("service", 120),
        string("name", 120),
        real("target"),
        integer("period_days"),
        utc("created_at"),
    )
    child_table(
        "uptime_burn_alerts",
        "slo_id",
        "uptime_slos",
        string("severity", 16),
        json("rules"),
        json("burn"),
        utc("fired_at"),
        utc("cleared_at", nullable=True),
    )
    org_table(
        "uptime_incidents",
        string("service", 120),
        string("title", 300),
        string("status", 16),
        string("impact", 16),
        boolean("public"),
        boolean("automatic"),
        utc("opened_at"),
        utc("resolved_at", nullable=True),
        json("organisations"),
        org=org_code(nullable=True),
    )
    child_table(
        "uptime_incident_updates",
        "incident_id",
        "uptime_incidents",
        utc("at"),
        string("status", 16),
        text("text"),
        string("author", 120),
    )
    create_table(
        "uptime_status_pages",
        string("slug", 64),
        string("title", 200),
        org_code(),
        json("services"),
        unique=[("slug",)],
        indexes=["org_code"],
    )
    org_table(
        "uptime_notifications",
        string("kind", 32),
        string("subject", 500),
        string("channel", 16),
        *delivery_columns(),
        utc("created_at"),
        org=org_code(nullable=True),
    )


def downgrade() -> None:
    drop_table("uptime_notifications", "org_code")
    drop_table("uptime_status_pages", "org_code")
    drop_table("uptime_incident_updates", "incident_id")
    drop_table("uptime_incidents", "org_code")
    drop_table("uptime_burn_alerts", "slo_id")
    drop_table("uptime_slos", "org_code")
    drop_table("uptime_agents")
    drop_table("uptime_maintenance", "org_code")
    drop_table("uptime_monitors", "org_code", "service")
