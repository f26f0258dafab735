"""alerts: indexes for the alert queue's first page over a million alerts

The queue filters on triage state (alone, or with severity and verdict), or on
one organisation and state, and shows the most recently seen first
(``last_seen``, then ``id``). One composite index each lets both backends walk
the page in index order and count the matches from the index alone; they replace the single-column indexes on
``state`` and ``org_code`` (their leading columns) and on ``severity`` and
``verdict`` (too few values to narrow anything on their own).

Revision ID: alerts_0002
Revises: alerts_0001
Create Date: 2026-12-06 23:30:00
"""

from bastion.store.migrations.helpers import create_indexes, drop_indexes

revision: str = "alerts_0002"
down_revision: str | None = "alerts_0001"

_OLD = ("state", "org_code", "severity", "verdict")
_NEW = (
    ("ix_alerts_state_seen", ["state", "last_seen", "id"]),
    ("ix_alerts_queue", ["state", "severity", "verdict", "last_seen", "id"]),
    ("ix_alerts_org_queue", ["org_code", "state", "last_seen", "id"]),
)


def upgrade() -> None:
    drop_indexes("alerts", *_OLD)
    create_indexes("alerts", *_NEW)


def downgrade() -> None:
    drop_indexes("alerts", *_NEW)
    create_indexes("alerts", *_OLD)
