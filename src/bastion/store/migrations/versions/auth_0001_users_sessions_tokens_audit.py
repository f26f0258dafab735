"""auth: users, memberships, sessions, tokens, policies, audit trail

Create Date: 2026-12-01 08:32:51.321587
"""

from bastion.store.migrations.helpers import (
    append_only,
    boolean,
    create_table,
    created_updated,
    drop_append_only,
    drop_table,
    integer,
    json,
    org_code,
    string,
    utc,
)

revision: str = "auth_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    create_table(
        "audit_events",
        utc("at"),
        string("actor", 120),
        string("actor_ip", 64),
        string("action", 64),
        string("target", 200),
        org_code(nullable=True),
        json("before", nullable=True),
        json("after", nullable=True),
        indexes=["action", "at", "org_code"],
    )

    create_table(
        "auth_org_policies",
        org_code(),
        boolean("require_totp"),
        unique=[("org_code",)],
    )
    create_table(
        "auth_tokens",
        string("name", 100),
        string("secret_hash", 64),
        org_code(nullable=True),
        json("scopes"),
        string("created_by", 100),
        utc("created_at"),
        utc("expires_at"),
        utc("revoked_at", nullable=True),
        utc("last_used_at", nullable=True),
        unique=[("secret_hash",)],
        indexes=["org_code"],
    )

    create_table(
        "auth_users",
        string("username", 64),
        string("display_name", 200),
        string("password_hash", 200, nullable=True),
        string("national_role", 32, nullable=True),
        string("totp_secret", 64, nullable=True),
        integer("totp_last_step", nullable=True),
        boolean("disabled"),
        integer("failed_attempts"),
        utc("locked_until", nullable=True),
        utc("last_sign_in_at", nullable=True),
        *created_updated(),
        unique=[("username",)],
    )
    create_table(
        "auth_memberships",
        integer("user_id"),
        org_code(),
        string("role", 32),
        references={"user_id": "auth_users"},
        ondelete="CASCADE",
        unique=[("user_id", "org_code")],
        indexes=["org_code"],
    )

    create_table(
        "auth_sessions",
        string("token_hash", 64),
        integer("user_id"),
        string("stage", 16),
        string("csrf_token", 64),
        string("ip", 64),
        string("user_agent", 200),
        utc("created_at"),
        utc("last_seen_at"),
        utc("expires_at"),
        references={"user_id": "auth_users"},
        ondelete="CASCADE",
        unique=[("token_hash",)],
        indexes=["user_id"],
    )

    append_only("audit_events", "the audit trail is append-only")


def downgrade() -> None:
    drop_table("auth_sessions", "user_id")
    drop_table("auth_memberships", "org_code")
    drop_table("auth_users")
    drop_table("auth_tokens", "org_code")
    drop_table("auth_org_policies")
    drop_table("audit_events", "org_code", "at", "action")
    drop_append_only("audit_events")
