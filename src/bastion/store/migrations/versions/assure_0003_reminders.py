"""assure: reminder e-mails (returns due, overdue or missing; reviews to do), each send recorded

Revision ID: assure_0003
Revises: assure_0002
Create Date: 2026-12-07 02:40:00
"""

from alembic import op

from bastion.store.migrations.helpers import (
    create_indexes,
    drop_table,
    id_column,
    integer,
    org_code,
    primary_key,
    string,
    utc,
)

revision: str = "assure_0003"
down_revision: str | None = "assure_0002"


def upgrade() -> None:
    op.create_table(
        "assure_reminders",
        id_column(),
        org_code(),
        string("period", 9),
        string("kind", 80),
        integer("return_id", nullable=True),
        string("recipient", 500),
        string("status", 16),
        integer("attempts"),
        string("error", 500),
        utc("created_at"),
        primary_key("assure_reminders"),
    )
    create_indexes("assure_reminders", "org_code")


def downgrade() -> None:
    drop_table("assure_reminders", "org_code")
