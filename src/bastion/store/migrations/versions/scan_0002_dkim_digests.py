"""scan: DKIM selectors an organisation registers, e-mailed digests and reminders

Revision ID: scan_0002
Revises: scan_0001
Create Date: 2026-12-07 02:30:00
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

revision: str = "scan_0002"
down_revision: str | None = "scan_0001"


def upgrade() -> None:
    op.add_column("scan_policies", json("dkim_selectors", nullable=True))
    op.add_column("scan_findings", utc("reminded_at", nullable=True))
    op.create_table(
        "scan_notifications",
        id_column(),
        org_code(),
        string("kind", 16),
        string("channel", 16),
        string("recipient", 500),
        string("status", 16),
        integer("attempts"),
        string("error", 500),
        json("findings"),
        utc("sent_at"),
        primary_key("scan_notifications"),
    )
    create_indexes("scan_notifications", "org_code")


def downgrade() -> None:
    drop_table("scan_notifications", "org_code")
    op.drop_column("scan_findings", "reminded_at")
    op.drop_column("scan_policies", "dkim_selectors")
