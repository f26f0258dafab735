"""passwords: directory audit reports (account names only) per organisation

Create Date: 2026-12-06 23:40:00
"""

from alembic import op

from bastion.store.migrations.helpers import (
    create_indexes,
    drop_table,
    id_column,
    integer,
    json,
    org_code,
    primary_key,
    string,
    utc,
)

revision: str = "passwords_0002"
down_revision: str | None = "passwords_0001"


def upgrade() -> None:
    op.create_table(
        "password_audits",
        id_column(),
        org_code(),
        utc("created_at"),
        string("actor", 120),
        string("source", 300),
        integer("accounts"),
        json("breached"),
        json("shared"),
        json("empty"),
        json("bad_lines"),
        primary_key("password_audits"),
    )
    create_indexes("password_audits", "org_code")


def downgrade() -> None:
    drop_table("password_audits", "org_code")
