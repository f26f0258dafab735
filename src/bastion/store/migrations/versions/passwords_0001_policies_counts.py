"""passwords: policies per organisation and per-day counts of checks by reason

Create Date: 2026-12-06 21:40:00
"""

from bastion.store.migrations.helpers import (
    boolean,
    create_table,
    date,
    drop_table,
    integer,
    json,
    org_code,
    string,
    utc,
)

revision: str = "passwords_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    create_table(
        "password_policies",
        org_code(),
        json("settings"),
        json("banned_terms"),
        boolean("scoring"),
        utc("updated_at"),
        unique=[("org_code",)],
    )
    create_table(
        "password_check_counts",
        org_code(),
        date("day"),
        string("reason", 32),
        integer("checks"),
        unique=[("org_code", "day", "reason")],
    )


def downgrade() -> None:
    drop_table("password_check_counts")
    drop_table("password_policies")
