"""cases: SOC cases, their organisations, alerts, advisories, observables, tasks, timeline

Also attachments (bytes on disk by SHA-256) and a record of each notification sent.
Alerts are linked by id only: the alert store belongs to another context.

Revision ID: cases_0001
Revises: 0003
Create Date: 2026-12-06 21:00:00
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
    string,
    text,
    utc,
)

revision: str = "cases_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    create_table(
        "cases",
        string("title", 300),
        text("description"),
        string("severity", 16),
        string("tlp", 16),
        string("pap", 16),
        string("status", 16),
        string("owner", 120, nullable=True),
        json("tags"),
        json("techniques"),
        string("patient_impact", 16),
        json("clinical_systems"),
        utc("downtime_since", nullable=True),
        boolean("personal_data"),
        utc("aware_at"),
        utc("breach_reported_at", nullable=True),
        utc("sector_reported_at", nullable=True),
        *created_updated(),
        utc("acknowledged_at", nullable=True),
        utc("closed_at", nullable=True),
        string("resolution", 500),
        integer("merged_into", nullable=True),
        indexes=["created_at", "severity", "status"],
    )
    child_table(
        "case_orgs",
        "case_id",
        "cases",
        org_code(),
        unique=[("case_id", "org_code")],
        indexes=["org_code"],
    )
    child_table(
        "case_alerts",
        "case_id",
        "cases",
        integer("alert_id"),
        unique=[("alert_id",)],
    )
    child_table(
        "case_advisories",
        "case_id",
        "cases",
        string("ref", 16),
        unique=[("case_id", "ref")],
    )
    child_table(
        "case_observables",
        "case_id",
        "cases",
        string("kind", 16),
        string("value", 2000),
        string("tlp", 16),
        string("note", 500),
        unique=[("case_id", "kind", "value")],
        indexes=["value"],
    )
    child_table(
        "case_tasks",
        "case_id",
        "cases",
        string("title", 300),
        string("status", 16),
        string("assignee", 120, nullable=True),
    )
    child_table(
        "case_timeline",
        "case_id",
        "cases",
        utc("at"),
        string("kind", 16),
        string("actor", 120),
        text("text"),
        json("data", nullable=True),
    )
    child_table(
        "case_attachments",
        "case_id",
        "cases",
        string("name", 255),
        string("sha256", 64),
        integer("size"),
        string("media_type", 100),
        string("added_by", 120),
        utc("added_at"),
        indexes=["sha256"],
    )
    create_table(
        "case_notifications",
        integer("case_id"),
        org_code(nullable=True),
        string("kind", 32),
        string("channel", 16),
        *delivery_columns(),
        utc("created_at"),
        indexes=["case_id"],
    )


def downgrade() -> None:
    drop_table("case_notifications", "case_id")
    drop_table("case_attachments", "case_id", "sha256")
    drop_table("case_timeline", "case_id")
    drop_table("case_tasks", "case_id")
    drop_table("case_observables", "case_id", "value")
    drop_table("case_advisories", "case_id")
    drop_table("case_alerts", "case_id")
    drop_table("case_orgs", "case_id", "org_code")
    drop_table("cases", "created_at", "severity", "status")
