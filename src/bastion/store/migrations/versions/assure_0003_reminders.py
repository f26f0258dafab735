"""assure: reminder e-mails (returns due, overdue or missing; reviews to do), each send recorded

Revision ID: assure_0003
Revises: assure_0002
Create Date: 2026-12-07 02:40:00
"""

from bastion.store.migrations.helpers import (
    delivery_columns,
    drop_table,
    integer,
    org_table,
    string,
    utc,
)

revision: str = "assure_0003"
down_revision: str | None = "assure_0002"


def upgrade() -> None:
    org_table(
        "assure_reminders",
        string("period", 9),
        string("kind", 80),
        integer("return_id", nullable=True),
        *delivery_columns(),
        utc("created_at"),
    )


def downgrade() -> None:
    drop_table("assure_reminders", "org_code")
