"""passwords: policies per organisation and per-day counts of checks by reason

Create Date: 2026-12-06 21:40:00
"""

from alembic import op

from bastion.store.migrations.helpers import (
    boolean,
    date,
    drop_table,
    id_column,
    integer,
    json,
    org_code,
    primary_key,
    string,
    unique,
    utc,
)

revision: str = "passwords_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    op.create_table(
        "password_policies",
        id_column(),
        org_code(),
        json("settings"),
        json("banned_terms"),
        boolean("scoring"),
        utc("updated_at"),
        primary_key("password_policies"),
        unique("password_policies", "org_code"),
    )
    op.create_table(
        "password_check_counts",
        id_column(),
        org_code(),
        date("day"),
        string("reason", 32),
        integer("checks"),
        primary_key("password_check_counts"),
        unique("password_check_counts", "org_code", "day", "reason"),
    )


def downgrade() -> None:
    drop_table("password_check_counts")
    drop_table("password_policies")
