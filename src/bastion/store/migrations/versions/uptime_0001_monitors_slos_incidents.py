"""uptime: monitors, maintenance, vantage points, SLOs, burn alerts, incidents, status pages

Probe results are Parquet files (bastion.uptime.history), not rows.

Revision ID: uptime_0001
Revises: 0003
Create Date: 2026-12-06 23:30:00
"""

from alembic import op

from bastion.store.migrations.helpers import (
    boolean,
    create_indexes,
    created_updated,
    drop_table,
    foreign_key,
    id_column,
    integer,
    json,
    org_code,
    primary_key,
    real,
    string,
    text,
    unique,
    utc,
)

revision: str = "uptime_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    op.create_table(
        "uptime_monitors",
        id_column(),
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
        primary_key("uptime_monitors"),
        unique("uptime_monitors", "push_token"),
    )
    create_indexes("uptime_monitors", "org_code", "service")
    op.create_table(
        "uptime_maintenance",
        id_column(),
        org_code(),
        integer("monitor_id", nullable=True),
        string("service", 120, nullable=True),
        string("title", 200),
        utc("starts_at"),
        integer("minutes"),
        string("repeat", 16),
        foreign_key("uptime_maintenance", "monitor_id", "uptime_monitors", ondelete="CASCADE"),
        primary_key("uptime_maintenance"),
    )
    create_indexes("uptime_maintenance", "org_code")
    op.create_table(
        "uptime_agents",
        id_column(),
        string("name", 64),
        string("location", 120),
        utc("last_seen"),
        integer("results"),
        boolean("silent"),
        primary_key("uptime_agents"),
        unique("uptime_agents", "name"),
    )
    op.create_table(
        "uptime_slos",
        id_column(),
        org_code(),
        string("service", 120),
        string("name", 120),
        real("target"),
        integer("period_days"),
        utc("created_at"),
        primary_key("uptime_slos"),
    )
    create_indexes("uptime_slos", "org_code")
    op.create_table(
        "uptime_burn_alerts",
        id_column(),
        integer("slo_id"),
        string("severity", 16),
        json("rules"),
        json("burn"),
        utc("fired_at"),
        utc("cleared_at", nullable=True),
        foreign_key("uptime_burn_alerts", "slo_id", "uptime_slos", ondelete="CASCADE"),
        primary_key("uptime_burn_alerts"),
    )
    create_indexes("uptime_burn_alerts", "slo_id")
    op.create_table(
        "uptime_incidents",
        id_column(),
        org_code(nullable=True),
        string("service", 120),
        string("title", 300),
        string("status", 16),
        string("impact", 16),
        boolean("public"),
        boolean("automatic"),
        utc("opened_at"),
        utc("resolved_at", nullable=True),
        json("organisations"),
        primary_key("uptime_incidents"),
    )
    create_indexes("uptime_incidents", "org_code")
    op.create_table(
        "uptime_incident_updates",
        id_column(),
        integer("incident_id"),
        utc("at"),
        string("status", 16),
        text("text"),
        string("author", 120),
        foreign_key(
            "uptime_incident_updates", "incident_id", "uptime_incidents", ondelete="CASCADE"
        ),
        primary_key("uptime_incident_updates"),
    )
    create_indexes("uptime_incident_updates", "incident_id")
    op.create_table(
        "uptime_status_pages",
        id_column(),
        string("slug", 64),
        string("title", 200),
        org_code(),
        json("services"),
        primary_key("uptime_status_pages"),
        unique("uptime_status_pages", "slug"),
    )
    create_indexes("uptime_status_pages", "org_code")
    op.create_table(
        "uptime_notifications",
        id_column(),
        org_code(nullable=True),
        string("kind", 32),
        string("subject", 500),
        string("channel", 16),
        string("recipient", 500),
        string("status", 16),
        integer("attempts"),
        string("error", 500),
        utc("created_at"),
        primary_key("uptime_notifications"),
    )
    create_indexes("uptime_notifications", "org_code")


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
