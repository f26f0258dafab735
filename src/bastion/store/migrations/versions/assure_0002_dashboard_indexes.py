"""assure: covering indexes for the national dashboard; returns by when they last changed

The dashboard groups a period's returns by region, ICB, type and status, lists the
late ones, and reads every published outcome digit: ``ix_assure_returns_board`` and
``ix_assure_returns_marks`` hold those columns, so each query searches an index
instead of reading 41,000 wide rows. The board index leads with ``period`` and
replaces its single-column index. ``updated_at`` is indexed for the dashboard's
change fingerprint (its maximum).

Revision ID: assure_0002
Revises: assure_0001
Create Date: 2026-12-07 02:20:00
"""

from bastion.store.migrations.helpers import create_indexes, drop_indexes

revision: str = "assure_0002"
down_revision: str | None = "assure_0001"

_BOARD = (
    "period", "framework", "org_type", "region", "icb", "status", "published_late", "deadline",
    "published_at", "org_code",
)  # fmt: skip
_NEW = (
    ("ix_assure_returns_board", list(_BOARD)),
    ("ix_assure_returns_marks", ["period", "framework", "outcome_marks"]),
    "updated_at",
)


def upgrade() -> None:
    drop_indexes("assure_returns", "period")
    create_indexes("assure_returns", *_NEW)


def downgrade() -> None:
    drop_indexes("assure_returns", *_NEW)
    create_indexes("assure_returns", "period")
