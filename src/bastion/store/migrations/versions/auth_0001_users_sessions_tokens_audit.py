"""auth: users, memberships, sessions, tokens, policies, audit trail

Revision ID: auth_0001
Revises: 0003
Create Date: 2026-12-01 08:32:51.321587
"""

import sqlalchemy as sa
from alembic import op

from bastion.store.migrations.helpers import (
    append_only,
    create_indexes,
    created_updated,
    drop_append_only,
    drop_table,
    foreign_key,
    id_column,
    org_code,
    primary_key,
    unique,
    utc,
)

revision: str = "auth_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    op.create_table(
        "audit_events",
        id_column(),
        utc("at"),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("actor_ip", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        org_code(nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        primary_key("audit_events"),
    )
    create_indexes("audit_events", "action", "at", "org_code")

    op.create_table(
        "auth_org_policies",
        id_column(),
        org_code(),
        sa.Column("require_totp", sa.Boolean(), nullable=False),
        primary_key("auth_org_policies"),
        unique("auth_org_policies", "org_code"),
    )
    op.create_table(
        "auth_tokens",
        id_column(),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        org_code(nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        utc("created_at"),
        utc("expires_at"),
        utc("revoked_at", nullable=True),
        utc("last_used_at", nullable=True),
        primary_key("auth_tokens"),
        unique("auth_tokens", "secret_hash"),
    )
    create_indexes("auth_tokens", "org_code")

    op.create_table(
        "auth_users",
        id_column(),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("national_role", sa.String(length=32), nullable=True),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        utc("locked_until", nullable=True),
        utc("last_sign_in_at", nullable=True),
        *created_updated(),
        primary_key("auth_users"),
        unique("auth_users", "username"),
    )
    op.create_table(
        "auth_memberships",
        id_column(),
        sa.Column("user_id", sa.Integer(), nullable=False),
        org_code(),
        sa.Column("role", sa.String(length=32), nullable=False),
        foreign_key("auth_memberships", "user_id", "auth_users", ondelete="CASCADE"),
        primary_key("auth_memberships"),
        unique("auth_memberships", "user_id", "org_code"),
    )
    create_indexes("auth_memberships", "org_code")

    op.create_table(
        "auth_sessions",
        id_column(),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        utc("created_at"),
        utc("last_seen_at"),
        utc("expires_at"),
        foreign_key("auth_sessions", "user_id", "auth_users", ondelete="CASCADE"),
        primary_key("auth_sessions"),
        unique("auth_sessions", "token_hash"),
    )
    create_indexes("auth_sessions", "user_id")

    append_only("audit_events", "the audit trail is append-only")


def downgrade() -> None:
    drop_table("auth_sessions", "user_id")
    drop_table("auth_memberships", "org_code")
    drop_table("auth_users")
    drop_table("auth_tokens", "org_code")
    drop_table("auth_org_policies")
    drop_table("audit_events", "org_code", "at", "action")
    drop_append_only("audit_events")
