"""passwords: directory audit reports (account names only) per organisation

Create Date: 2026-12-06 23:40:00
"""

from bastion.store.migrations.helpers import (
    create_table,
    drop_table,
    integer,
    json,
    org_code,
    string,
    utc,
)

revision: str = "passwords_0002"
down_revision: str | None = "passwords_0001"


def upgrade() -> None:
    create_table(
        "password_audits",
        org_code(),
        utc("created_at"),
        string("actor", 120),
        string("source", 300),
        integer("accounts"),
        json("breached"),
        json("shared"),
        json("empty"),
        json("bad_lines"),
        indexes=["org_code"],
    )


def downgrade() -> None:
    drop_table("password_audits", "org_code")
