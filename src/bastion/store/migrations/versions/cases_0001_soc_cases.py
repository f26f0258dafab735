"""cases: SOC cases, their organisations, alerts, advisories, observables, tasks, timeline

Also attachments (bytes on disk by SHA-256) and a record of each notification sent.
Alerts are linked by id only: the alert store belongs to another context.

Revision ID: cases_0001
Revises: 0003
Create Date: 2026-12-06 21:00:00
"""

import sqlalchemy as sa
from alembic import op

from bastion.store.migrations.helpers import (
    create_indexes,
    created_updated,
    drop_table,
    foreign_key,
    id_column,
    org_code,
    primary_key,
    unique,
    utc,
)

revision: str = "cases_0001"
down_revision: str | None = "0003"


def _case_id(table: str) -> tuple[sa.Column[object], sa.ForeignKeyConstraint]:
    return (
        sa.Column("case_id", sa.Integer(), nullable=False),
        foreign_key(table, "case_id", "cases", ondelete="CASCADE"),
    )


def upgrade() -> None:
    op.create_table(
        "cases",
        id_column(),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("pap", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=120), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("techniques", sa.JSON(), nullable=False),
        sa.Column("patient_impact", sa.String(length=16), nullable=False),
        sa.Column("clinical_systems", sa.JSON(), nullable=False),
        utc("downtime_since", nullable=True),
        sa.Column("personal_data", sa.Boolean(), nullable=False),
        utc("aware_at"),
        utc("breach_reported_at", nullable=True),
        utc("sector_reported_at", nullable=True),
        *created_updated(),
        utc("acknowledged_at", nullable=True),
        utc("closed_at", nullable=True),
        sa.Column("resolution", sa.String(length=500), nullable=False),
        sa.Column("merged_into", sa.Integer(), nullable=True),
        primary_key("cases"),
    )
    create_indexes("cases", "created_at", "severity", "status")
    op.create_table(
        "case_orgs",
        id_column(),
        *_case_id("case_orgs"),
        org_code(),
        primary_key("case_orgs"),
        unique("case_orgs", "case_id", "org_code"),
    )
    create_indexes("case_orgs", "case_id", "org_code")
    op.create_table(
        "case_alerts",
        id_column(),
        *_case_id("case_alerts"),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        primary_key("case_alerts"),
        unique("case_alerts", "alert_id"),
    )
    create_indexes("case_alerts", "case_id")
    op.create_table(
        "case_advisories",
        id_column(),
        *_case_id("case_advisories"),
        sa.Column("ref", sa.String(length=16), nullable=False),
        primary_key("case_advisories"),
        unique("case_advisories", "case_id", "ref"),
    )
    create_indexes("case_advisories", "case_id")
    op.create_table(
        "case_observables",
        id_column(),
        *_case_id("case_observables"),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=2000), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        primary_key("case_observables"),
        unique("case_observables", "case_id", "kind", "value"),
    )
    create_indexes("case_observables", "case_id", "value")
    op.create_table(
        "case_tasks",
        id_column(),
        *_case_id("case_tasks"),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=120), nullable=True),
        primary_key("case_tasks"),
    )
    create_indexes("case_tasks", "case_id")
    op.create_table(
        "case_timeline",
        id_column(),
        *_case_id("case_timeline"),
        utc("at"),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        primary_key("case_timeline"),
    )
    create_indexes("case_timeline", "case_id")
    op.create_table(
        "case_attachments",
        id_column(),
        *_case_id("case_attachments"),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("added_by", sa.String(length=120), nullable=False),
        utc("added_at"),
        primary_key("case_attachments"),
    )
    create_indexes("case_attachments", "case_id", "sha256")
    op.create_table(
        "case_notifications",
        id_column(),
        sa.Column("case_id", sa.Integer(), nullable=False),
        org_code(nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        utc("created_at"),
        primary_key("case_notifications"),
    )
    create_indexes("case_notifications", "case_id")


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
