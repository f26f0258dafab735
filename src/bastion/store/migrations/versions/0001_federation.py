"""federation

Create Date: 2026-11-25 12:45:49.808121
"""

from alembic import op

from bastion.store.migrations.helpers import (
    create_indexes,
    drop_table,
    foreign_key,
    id_column,
    integer,
    primary_key,
    string,
    unique,
    utc,
)

revision: str = "0001"
down_revision: str | None = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        id_column(),
        string("code", 16),
        string("name", 200),
        string("type", 32),
        integer("parent_id", nullable=True),
        utc("created_at"),
        foreign_key("organisations", "parent_id", "organisations", ondelete="SET NULL"),
        primary_key("organisations"),
        unique("organisations", "code"),
    )
    create_indexes("organisations", "parent_id", "type")

    op.create_table(
        "contacts",
        id_column(),
        integer("organisation_id"),
        string("name", 200),
        string("email", 254),
        string("role", 64),
        foreign_key("contacts", "organisation_id", "organisations", ondelete="CASCADE"),
        primary_key("contacts"),
    )
    create_indexes("contacts", "organisation_id")

    op.create_table(
        "hosts",
        id_column(),
        integer("organisation_id"),
        string("hostname", 253),
        string("address", 64, nullable=True),
        string("description", 200),
        foreign_key("hosts", "organisation_id", "organisations", ondelete="CASCADE"),
        primary_key("hosts"),
        unique("hosts", "organisation_id", "hostname"),
    )
    create_indexes("hosts", "organisation_id")

    op.create_table(
        "networks",
        id_column(),
        integer("organisation_id"),
        string("cidr", 64),
        string("description", 200),
        foreign_key("networks", "organisation_id", "organisations", ondelete="CASCADE"),
        primary_key("networks"),
        unique("networks", "cidr"),
    )
    create_indexes("networks", "organisation_id")


def downgrade() -> None:
    drop_table("networks", "organisation_id")
    drop_table("hosts", "organisation_id")
    drop_table("contacts", "organisation_id")
    drop_table("organisations", "type", "parent_id")
