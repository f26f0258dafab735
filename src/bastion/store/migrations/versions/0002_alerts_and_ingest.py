"""alerts and ingest: boundary alerts, ingest sources and batches

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:53:47.786087
"""

import sqlalchemy as sa
from alembic import op

from bastion.store.migrations.helpers import (
    create_indexes,
    created_updated,
    drop_table,
    id_column,
    org_code,
    primary_key,
    utc,
)

revision: str = "0002"
down_revision: str | None = "0001"


def upgrade() -> None:
    op.create_table(
        "alerts",
        id_column(),
        org_code(nullable=True),
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
        utc("first_seen"),
        utc("last_seen"),
        sa.Column("evidence", sa.JSON(), nullable=False),
        *created_updated(),
        primary_key("alerts"),
    )
    create_indexes(
        "alerts",
        "last_seen",
        ("ix_alerts_match", ["key", "last_seen"]),
        "org_code",
        "severity",
        "status",
    )

    op.create_table(
        "ingest_batches",
        sa.Column("batch_id", sa.String(length=128), nullable=False),
        sa.Column("source_key", sa.String(length=256), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("rejects", sa.Integer(), nullable=False),
        utc("processed_at"),
        primary_key("ingest_batches", "batch_id"),
    )
    create_indexes("ingest_batches", "source_key")

    op.create_table(
        "ingest_sources",
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        utc("updated_at"),
        primary_key("ingest_sources", "key"),
    )


def downgrade() -> None:
    drop_table("ingest_sources")
    drop_table("ingest_batches", "source_key")
    drop_table(
        "alerts",
        "status",
        "severity",
        "org_code",
        ("ix_alerts_match", ["key", "last_seen"]),
        "last_seen",
    )
