"""alerts: triage state, resolution, assignee, groups, external sources and history

The boundary's blocked/live ``status`` becomes the ``verdict``; every existing
alert starts ``new`` in a group of its own.

Revision ID: alerts_0001
Revises: 0003
Create Date: 2026-12-06 20:30:00
"""

import sqlalchemy as sa
from alembic import op

from bastion.store.migrations.helpers import (
    child_table,
    create_indexes,
    drop_indexes,
    drop_table,
    integer,
    string,
    text,
    utc,
)

revision: str = "alerts_0001"
down_revision: str | None = "0003"


def _columns() -> list[sa.Column[object]]:
    """The nullable triage, group and source columns, new each time (a Column joins one table)."""
    return [
        string("resolution", 32, nullable=True),
        string("assignee", 120, nullable=True),
        integer("group_id", nullable=True),
        string("observable", 200, nullable=True),
        string("source", 64, nullable=True),
        string("source_ref", 200, nullable=True),
    ]


_INDEXES = (
    "state",
    "assignee",
    "group_id",
    ("ix_alerts_observable", ["observable", "last_seen"]),
    ("ix_alerts_source_ref", ["source", "source_ref"]),
)


def upgrade() -> None:
    drop_indexes("alerts", "status")
    # Plain ALTER TABLE on both backends (SQLite 3.25+ renames a column in place): a batch
    # copy of the table would re-create its indexes in an order that varies run to run.
    op.execute("ALTER TABLE alerts RENAME COLUMN status TO verdict")
    op.add_column(
        "alerts", sa.Column("state", sa.String(length=16), nullable=False, server_default="new")
    )
    for column in _columns():
        op.add_column("alerts", column)
    op.execute(
        "UPDATE alerts SET group_id = id, "
        "observable = SUBSTR(COALESCE(indicator_value, key), 1, 200)"
    )
    create_indexes("alerts", "verdict", *_INDEXES)
    child_table(
        "alert_history",
        "alert_id",
        "alerts",
        utc("at"),
        string("actor", 120),
        string("field", 32),
        text("before", nullable=True),
        text("after", nullable=True),
        text("reason", nullable=True),
        indexes=[("ix_alert_history_field_at", ["field", "at"])],
    )


def downgrade() -> None:
    drop_table("alert_history", "alert_id", ("ix_alert_history_field_at", ["field", "at"]))
    drop_indexes("alerts", "verdict", *_INDEXES)
    for column in reversed(_columns()):
        op.drop_column("alerts", column.name)
    op.drop_column("alerts", "state")
    op.execute("ALTER TABLE alerts RENAME COLUMN verdict TO status")
    create_indexes("alerts", "status")
