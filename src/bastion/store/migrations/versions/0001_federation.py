"""federation

Revision ID: 0001
Revises:
Create Date: 2026-11-25 12:45:49.808121
"""

import sqlalchemy as sa
from alembic import op

from bastion.store.migrations.helpers import (
    create_indexes,
    drop_table,
    foreign_key,
    id_column,
    primary_key,
    unique,
    utc,
)

revision: str = "0001"
down_revision: str | None = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        id_column(),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        utc("created_at"),
        foreign_key("organisations", "parent_id", "organisations", ondelete="SET NULL"),
        primary_key("organisations"),
        unique("organisations", "code"),
    )
    create_indexes("organisations", "parent_id", "type")

    op.create_table(
        "contacts",
        id_column(),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        foreign_key("contacts", "organisation_id", "organisations", ondelete="CASCADE"),
        primary_key("contacts"),
    )
    create_indexes("contacts", "organisation_id")

    op.create_table(
        "hosts",
        id_column(),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("hostname", sa.String(length=253), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=False),
        foreign_key("hosts", "organisation_id", "organisations", ondelete="CASCADE"),
        primary_key("hosts"),
        unique("hosts", "organisation_id", "hostname"),
    )
    create_indexes("hosts", "organisation_id")

    op.create_table(
        "networks",
        id_column(),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("cidr", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        foreign_key("networks", "organisation_id", "organisations", ondelete="CASCADE"),
        primary_key("networks"),
        unique("networks", "cidr"),
    )
    create_indexes("networks", "organisation_id")


def downgrade() -> None:
    drop_table("networks", "organisation_id")
    drop_table("hosts", "organisation_id")
    drop_table("contacts", "organisation_id")
    drop_table("organisations", "type", "parent_id")
