"""scan: DKIM selectors an organisation registers, e-mailed digests and reminders

Revision ID: scan_0002
Revises: scan_0001
Create Date: 2026-12-07 02:30:00
"""

from alembic import op

from bastion.store.migrations.helpers import (
    delivery_columns,
    drop_table,
    json,
    org_table,
    string,
    utc,
)

revision: str = "scan_0002"
down_revision: str | None = "scan_0001"


def upgrade() -> None:
    op.add_column("scan_policies", json("dkim_selectors", nullable=True))
    op.add_column("scan_findings", utc("reminded_at", nullable=True))
    org_table(
        "scan_notifications",
        string("kind", 16),
        string("channel", 16),
        *delivery_columns(),
        json("findings"),
        utc("sent_at"),
    )


def downgrade() -> None:
    drop_table("scan_notifications", "org_code")
    op.drop_column("scan_findings", "reminded_at")
    op.drop_column("scan_policies", "dkim_selectors")
