"""alerts: the overview's figures from indexes alone

``ix_alerts_seen_summary`` holds what the overview sums over a fortnight (alerts
and blocked alerts per day, events per organisation) in last-seen order, so a
national fortnight of tens of thousands of alerts is read from the index without
visiting a row; ``ix_alerts_verdict`` counts the live alerts, national or of a
member's organisations, from the index (before it, counting a million alerts'
verdicts scanned the queue's index).

Revision ID: alerts_0004
Revises: alerts_0003
Create Date: 2026-12-07 05:35:00
"""

from bastion.store.migrations.helpers import create_indexes, drop_indexes

revision: str = "alerts_0004"
down_revision: str | None = "alerts_0003"

_INDEXES = (
    ("ix_alerts_seen_summary", ["last_seen", "verdict", "org_code", "count"]),
    ("ix_alerts_verdict", ["verdict", "org_code"]),
)


def upgrade() -> None:
    create_indexes("alerts", *_INDEXES)


def downgrade() -> None:
    drop_indexes("alerts", *_INDEXES)
