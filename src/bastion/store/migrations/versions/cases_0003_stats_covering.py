"""cases: the statistics' period read from two indexes alone

The response-time statistics read each case created or closed in a period: its
severity, status, merge and three timestamps. ``ix_cases_created_stats`` and
``ix_cases_closed_stats`` hold all of them after the creation and the closing time,
so neither half of the condition visits the table (a national month is ~9,000 wide
rows); they replace the single-column indexes on those times, their prefixes.

Revision ID: cases_0003
Revises: cases_0002
Create Date: 2026-12-07 08:15:00
"""

from bastion.store.migrations.helpers import create_indexes, drop_indexes

revision: str = "cases_0003"
down_revision: str | None = "cases_0002"

_READ = ["merged_into", "severity", "status", "acknowledged_at"]
_INDEXES = (
    ("ix_cases_created_stats", ["created_at", *_READ, "closed_at"]),
    ("ix_cases_closed_stats", ["closed_at", *_READ, "created_at"]),
)


def upgrade() -> None:
    drop_indexes("cases", "created_at", "closed_at")
    create_indexes("cases", *_INDEXES)


def downgrade() -> None:
    drop_indexes("cases", *_INDEXES)
    create_indexes("cases", "created_at", "closed_at")
