"""boundary: workers' heartbeats and legal holds on archived days

Revision ID: boundary_0002
Revises: boundary_0001
Create Date: 2026-12-07 02:30:00
"""

from bastion.store.migrations.helpers import (
    big_integer,
    create_table,
    date,
    drop_table,
    integer,
    org_table,
    string,
    text,
    utc,
)

revision: str = "boundary_0002"
down_revision: str | None = "boundary_0001"


def upgrade() -> None:
    create_table(
        "boundary_workers",
        string("worker_id", 200),
        string("host", 200),
        integer("pid"),
        utc("started_at"),
        utc("last_beat"),
        string("state", 32),
        text("reason"),
        big_integer("batches"),
        big_integer("events"),
        big_integer("dead_letters"),
        key=("worker_id",),
        indexes=["last_beat"],
    )
    org_table(
        "archive_holds",
        date("first_day", nullable=True),
        date("last_day", nullable=True),
        text("reason"),
        string("created_by", 120),
        utc("created_at"),
    )


def downgrade() -> None:
    drop_table("archive_holds", "org_code")
    drop_table("boundary_workers", "last_beat")
