"""feeds, lifecycle, sightings, block lists

Revision ID: intel_0001
Revises: 0003
Create Date: 2026-12-01 08:31:01.851620
"""

import sqlalchemy as sa
from alembic import op

from bastion.store.migrations.helpers import (
    create_indexes,
    drop_table,
    foreign_key,
    id_column,
    org_code,
    primary_key,
    unique,
    utc,
)

revision: str = "intel_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    op.create_table(
        "intel_allowlist",
        id_column(),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        utc("created_at"),
        primary_key("intel_allowlist"),
        unique("intel_allowlist", "type", "value"),
    )
    op.create_table(
        "intel_changes",
        id_column(),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("pull_id", sa.Integer(), nullable=True),
        utc("at"),
        primary_key("intel_changes"),
    )
    create_indexes("intel_changes", "at", ("ix_intel_changes_indicator", ["type", "value"]))

    op.create_table(
        "intel_feeds",
        id_column(),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("etag", sa.String(length=512), nullable=True),
        sa.Column("last_modified", sa.String(length=64), nullable=True),
        sa.Column("cursor", sa.String(length=64), nullable=True),
        utc("last_pull_at", nullable=True),
        utc("created_at"),
        primary_key("intel_feeds"),
        unique("intel_feeds", "name"),
    )
    op.create_table(
        "intel_policies",
        id_column(),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("min_confidence", sa.Integer(), nullable=False),
        sa.Column("max_tlp", sa.String(length=16), nullable=False),
        utc("created_at"),
        primary_key("intel_policies"),
        unique("intel_policies", "name"),
    )
    op.create_table(
        "intel_retrohunts",
        id_column(),
        utc("started_at"),
        utc("since", nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("indicators", sa.Integer(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        primary_key("intel_retrohunts"),
    )
    create_indexes("intel_retrohunts", "started_at")

    op.create_table(
        "intel_sightings",
        id_column(),
        sa.Column("indicator", sa.String(length=2100), nullable=False),
        org_code(),
        utc("first_seen"),
        utc("last_seen"),
        sa.Column("count", sa.BigInteger(), nullable=False),
        primary_key("intel_sightings"),
        unique("intel_sightings", "indicator", "org_code"),
    )
    create_indexes("intel_sightings", "last_seen", "org_code")

    op.create_table(
        "intel_devices",
        id_column(),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        utc("created_at"),
        utc("revoked_at", nullable=True),
        utc("last_pull_at", nullable=True),
        foreign_key("intel_devices", "policy_id", "intel_policies"),
        primary_key("intel_devices"),
        unique("intel_devices", "name"),
        unique("intel_devices", "token_hash"),
    )
    create_indexes("intel_devices", "policy_id")

    op.create_table(
        "intel_feed_pulls",
        id_column(),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        utc("started_at"),
        utc("finished_at", nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("read", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("expired", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        foreign_key("intel_feed_pulls", "feed_id", "intel_feeds", ondelete="CASCADE"),
        primary_key("intel_feed_pulls"),
    )
    create_indexes("intel_feed_pulls", "feed_id")

    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tlp", sa.String(length=16), server_default="AMBER", nullable=False)
        )
        batch_op.add_column(utc("listed_at", nullable=True))
        batch_op.create_index(batch_op.f("ix_indicators_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicators_updated_at"))
        batch_op.drop_column("listed_at")
        batch_op.drop_column("tlp")

    drop_table("intel_feed_pulls", "feed_id")
    drop_table("intel_devices", "policy_id")
    drop_table("intel_sightings", "org_code", "last_seen")
    drop_table("intel_retrohunts", "started_at")
    drop_table("intel_policies")
    drop_table("intel_feeds")
    drop_table("intel_changes", ("ix_intel_changes_indicator", ["type", "value"]), "at")
    drop_table("intel_allowlist")
