"""feeds, lifecycle, sightings, block lists

Revision ID: intel_0001
Revises: 0003
Create Date: 2026-12-01 08:31:01.851620
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bastion.store.base

revision: str = "intel_0001"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intel_allowlist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_allowlist")),
        sa.UniqueConstraint("type", "value", name=op.f("uq_intel_allowlist_type")),
    )
    op.create_table(
        "intel_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("pull_id", sa.Integer(), nullable=True),
        sa.Column("at", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_changes")),
    )
    with op.batch_alter_table("intel_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intel_changes_at"), ["at"], unique=False)
        batch_op.create_index("ix_intel_changes_indicator", ["type", "value"], unique=False)

    op.create_table(
        "intel_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("etag", sa.String(length=512), nullable=True),
        sa.Column("last_modified", sa.String(length=64), nullable=True),
        sa.Column("cursor", sa.String(length=64), nullable=True),
        sa.Column("last_pull_at", bastion.store.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_feeds")),
        sa.UniqueConstraint("name", name=op.f("uq_intel_feeds_name")),
    )
    op.create_table(
        "intel_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("min_confidence", sa.Integer(), nullable=False),
        sa.Column("max_tlp", sa.String(length=16), nullable=False),
        sa.Column("created_at", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_policies")),
        sa.UniqueConstraint("name", name=op.f("uq_intel_policies_name")),
    )
    op.create_table(
        "intel_retrohunts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("since", bastion.store.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("indicators", sa.Integer(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_retrohunts")),
    )
    with op.batch_alter_table("intel_retrohunts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intel_retrohunts_started_at"), ["started_at"], unique=False
        )

    op.create_table(
        "intel_sightings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=2100), nullable=False),
        sa.Column("org_code", sa.String(length=16), nullable=False),
        sa.Column("first_seen", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_sightings")),
        sa.UniqueConstraint("indicator", "org_code", name=op.f("uq_intel_sightings_indicator")),
    )
    with op.batch_alter_table("intel_sightings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intel_sightings_last_seen"), ["last_seen"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_intel_sightings_org_code"), ["org_code"], unique=False)

    op.create_table(
        "intel_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", bastion.store.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_pull_at", bastion.store.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["intel_policies.id"],
            name=op.f("fk_intel_devices_policy_id_intel_policies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_devices")),
        sa.UniqueConstraint("name", name=op.f("uq_intel_devices_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_intel_devices_token_hash")),
    )
    with op.batch_alter_table("intel_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intel_devices_policy_id"), ["policy_id"], unique=False)

    op.create_table(
        "intel_feed_pulls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("started_at", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", bastion.store.base.UtcDateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["feed_id"],
            ["intel_feeds.id"],
            name=op.f("fk_intel_feed_pulls_feed_id_intel_feeds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_feed_pulls")),
    )
    with op.batch_alter_table("intel_feed_pulls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intel_feed_pulls_feed_id"), ["feed_id"], unique=False)

    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tlp", sa.String(length=16), server_default="AMBER", nullable=False)
        )
        batch_op.add_column(
            sa.Column("listed_at", bastion.store.base.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_indicators_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicators_updated_at"))
        batch_op.drop_column("listed_at")
        batch_op.drop_column("tlp")

    with op.batch_alter_table("intel_feed_pulls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_feed_pulls_feed_id"))

    op.drop_table("intel_feed_pulls")
    with op.batch_alter_table("intel_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_devices_policy_id"))

    op.drop_table("intel_devices")
    with op.batch_alter_table("intel_sightings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_sightings_org_code"))
        batch_op.drop_index(batch_op.f("ix_intel_sightings_last_seen"))

    op.drop_table("intel_sightings")
    with op.batch_alter_table("intel_retrohunts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_retrohunts_started_at"))

    op.drop_table("intel_retrohunts")
    op.drop_table("intel_policies")
    op.drop_table("intel_feeds")
    with op.batch_alter_table("intel_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_intel_changes_indicator")
        batch_op.drop_index(batch_op.f("ix_intel_changes_at"))

    op.drop_table("intel_changes")
    op.drop_table("intel_allowlist")
