"""boundary: hunts saved by name, private to their owner or shared

Revision ID: boundary_0001
Revises: 0003
Create Date: 2026-12-06 21:00:00
"""

from bastion.store.migrations.helpers import (
    boolean,
    create_table,
    created_updated,
    drop_table,
    string,
    text,
)

revision: str = "boundary_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    create_table(
        "saved_hunts",
        string("name", 200),
        text("sql"),
        string("owner", 120),
        boolean("shared"),
        *created_updated(),
        indexes=["owner"],
    )


def downgrade() -> None:
    drop_table("saved_hunts", "owner")
