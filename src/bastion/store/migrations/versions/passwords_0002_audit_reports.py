"""passwords: directory audit reports (account names only) per organisation

Create Date: 2026-12-06 23:40:00
"""

from bastion.store.migrations.helpers import (
    drop_table,
    integer,
    json,
    org_table,
    string,
    utc,
)

revision: str = "passwords_0002"
down_revision: str | None = "passwords_0001"


def upgrade() -> None:
    org_table(
        "password_audits",
        utc("created_at"),
        string("actor", 120),
        string("source", 300),
        integer("accounts"),
        json("breached"),
        json("shared"),
        json("empty"),
        json("bad_lines"),
    )


def downgrade() -> None:
    drop_table("password_audits", "org_code")
