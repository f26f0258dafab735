"""alerts and ingest: boundary alerts, ingest sources and batches

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:53:47.786087
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bastion.store.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_code", sa.String(length=16), nullable=True),
        sa.Column("host", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("retrospective", sa.Boolean(), nullable=False),
        sa.Column("indicator_type", sa.String(length=32), nullable=True),
        sa.Column("indicator_value", sa.Text(), nullable=True),
        sa.Column("indicator_source", sa.String(length=200), nullable=True),
        sa.Column("indicator_threat", sa.String(length=200), nullable=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_seen", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("created_at", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_last_seen"), ["last_seen"], unique=False)
        batch_op.create_index("ix_alerts_match", ["key", "last_seen"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_org_code"), ["org_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_severity"), ["severity"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_status"), ["status"], unique=False)

    op.create_table(
        "ingest_batches",
        sa.Column("batch_id", sa.String(length=128), nullable=False),
        sa.Column("source_key", sa.String(length=256), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("rejects", sa.Integer(), nullable=False),
        sa.Column("processed_at", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_ingest_batches")),
    )
    with op.batch_alter_table("ingest_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ingest_batches_source_key"), ["source_key"], unique=False
        )

    op.create_table(
        "ingest_sources",
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("updated_at", bastion.store.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_ingest_sources")),
    )


def downgrade() -> None:
    op.drop_table("ingest_sources")
    with op.batch_alter_table("ingest_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_batches_source_key"))

    op.drop_table("ingest_batches")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_status"))
        batch_op.drop_index(batch_op.f("ix_alerts_severity"))
        batch_op.drop_index(batch_op.f("ix_alerts_org_code"))
        batch_op.drop_index("ix_alerts_match")
        batch_op.drop_index(batch_op.f("ix_alerts_last_seen"))

    op.drop_table("alerts")
