"""federation

Create Date: 2026-11-25 12:45:49.808121
"""

from bastion.store.migrations.helpers import (
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

    create_table(
        "contacts",
        integer("organisation_id"),
        string("name", 200),
        string("email", 254),
        string("role", 64),
        references={"organisation_id": "organisations"},
        ondelete="CASCADE",
        indexes=["organisation_id"],
    )

    create_table(
        "hosts",
        integer("organisation_id"),
        string("hostname", 253),
        string("address", 64, nullable=True),
        string("description", 200),
        references={"organisation_id": "organisations"},
        ondelete="CASCADE",
        unique=[("organisation_id", "hostname")],
        indexes=["organisation_id"],
    )

    create_table(
        "networks",
        integer("organisation_id"),
        string("cidr", 64),
        string("description", 200),
        references={"organisation_id": "organisations"},
        ondelete="CASCADE",
        unique=[("cidr",)],
        indexes=["organisation_id"],
    )


def downgrade() -> None:
    drop_table("networks", "organisation_id")
    drop_table("hosts", "organisation_id")
    drop_table("contacts", "organisation_id")
    drop_table("organisations", "type", "parent_id")
