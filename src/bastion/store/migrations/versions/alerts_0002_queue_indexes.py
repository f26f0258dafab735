"""alerts: indexes for the alert queue's first page; when each alert was acknowledged, closed

The queue filters on triage state (alone, or with severity and verdict), or on
one organisation and state, and shows the most recently seen first
(``last_seen``, then ``id``). One composite index each lets both backends walk
the page in index order and count the matches from the index alone; they replace the single-column indexes on
``state`` and ``org_code`` (their leading columns) and on ``severity`` and
``verdict`` (too few values to narrow anything on their own).

``acknowledged_at`` (first left ``new``) and ``closed_at`` are kept on the alert
as the triage history records them, so MTTA/MTTR over a year of a million alerts
is one scan of one table; existing alerts take them from their history.

Revision ID: alerts_0002
Revises: alerts_0001
Create Date: 2026-12-06 23:30:00
"""

from alembic import op

from bastion.store.migrations.helpers import create_indexes, drop_indexes, utc

revision: str = "alerts_0002"
down_revision: str | None = "alerts_0001"

_OLD = ("state", "org_code", "severity", "verdict")
_NEW = (
    ("ix_alerts_state_seen", ["state", "last_seen", "id"]),
    ("ix_alerts_queue", ["state", "severity", "verdict", "last_seen", "id"]),
    ("ix_alerts_org_queue", ["org_code", "state", "last_seen", "id"]),
    # MTTA/MTTR per organisation and severity, read from the index alone, in its order.
    ("ix_alerts_response", ["org_code", "severity", "created_at", "acknowledged_at", "closed_at"]),
)
_FIRST = (
    "(SELECT MIN(h.at) FROM alert_history h WHERE h.alert_id = alerts.id "
    "AND h.field = 'state' AND {})"
)


def upgrade() -> None:
    op.add_column("alerts", utc("acknowledged_at", nullable=True))
    op.add_column("alerts", utc("closed_at", nullable=True))
    op.execute(
        "UPDATE alerts SET acknowledged_at = "
        + _FIRST.format("h.before = 'new'")
        + ", closed_at = "
        + _FIRST.format("h.after = 'closed'")
    )
    drop_indexes("alerts", *_OLD)
    create_indexes("alerts", *_NEW)


def downgrade() -> None:
    drop_indexes("alerts", *_NEW)
    create_indexes("alerts", *_OLD)
    op.drop_column("alerts", "closed_at")
    op.drop_column("alerts", "acknowledged_at")
