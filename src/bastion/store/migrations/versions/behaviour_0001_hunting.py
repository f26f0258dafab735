"""behaviour: the allow-list, the results of behavioural hunting and the days hunted

Revision ID: behaviour_0001
Revises: 0003
Create Date: 2026-12-07 03:00:00
"""

from bastion.store.migrations.helpers import (
    create_table,
    date,
    drop_table,
    integer,
    json,
    org_code,
    org_table,
    real,
    string,
    text,
    utc,
)

revision: str = "behaviour_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    org_table(
        "behaviour_allow",
        string("kind", 16),
        string("value", 253),
        text("reason"),
        date("expires_on"),
        string("created_by", 120),
        utc("created_at"),
        org=org_code(nullable=True),
    )
    org_table(
        "behaviour_results",
        date("day"),
        string("analytic", 32),
        string("host", 64),
        string("dest", 253),
        string("remote", 64, nullable=True),
        real("score"),
        json("parts"),
        integer("connections"),
        integer("orgs"),
        utc("first_seen"),
        utc("last_seen"),
        string("status", 16),
        json("evidence"),
        utc("created_at"),
        unique=[("org_code", "day", "analytic", "host", "dest")],
        indexes=["day", "status"],
    )
    create_table(
        "behaviour_days",
        date("day"),
        integer("results"),
        utc("scanned_at"),
        unique=[("day",)],
    )


def downgrade() -> None:
    drop_table("behaviour_days")
    drop_table("behaviour_results", "org_code", "day", "status")
    drop_table("behaviour_allow", "org_code")
