"""federation

Create Date: 2026-11-25 12:45:49.808121
"""

from bastion.store.migrations.helpers import (
    child_table,
    create_table,
    drop_table,
    integer,
    string,
    utc,
)

revision: str = "0001"
down_revision: str | None = None


def upgrade() -> None:
    create_table(
        "organisations",
        string("code", 16),
        string("name", 200),
        string("type", 32),
        integer("parent_id", nullable=True),
        utc("created_at"),
        references={"parent_id": "organisations"},
        ondelete="SET NULL",
        unique=[("code",)],
        indexes=["parent_id", "type"],
    )

    child_table(
        "contacts",
        "organisation_id",
        "organisations",
        string("name", 200),
        string("email", 254),
        string("role", 64),
    )

    child_table(
        "hosts",
        "organisation_id",
        "organisations",
        string("hostname", 253),
        string("address", 64, nullable=True),
        string("description", 200),
        unique=[("organisation_id", "hostname")],
    )

    child_table(
        "networks",
        "organisation_id",
        "organisations",
        string("cidr", 64),
        string("description", 200),
        unique=[("cidr",)],
    )


def downgrade() -> None:
    drop_table("networks", "organisation_id")
    drop_table("hosts", "organisation_id")
    drop_table("contacts", "organisation_id")
    drop_table("organisations", "type", "parent_id")
