"""alerts: a member's whole list and a day's alerts by index; the daily response roll-up

``ix_alerts_org_seen`` gives a member's list with no state filter in its order
(most recently seen first); ``ix_alerts_created`` finds one day's alerts by
creation. ``alert_rollup`` holds each day's national response figures per
severity, ``alert_rollup_days`` which days' roll-ups are current (see
``bastion.alerts.rollup``); both start empty, and the first statistics over a
period roll its days up.

Revision ID: alerts_0003
Revises: alerts_0002
Create Date: 2026-12-07 02:40:00
"""

from bastion.store.migrations.helpers import (
    create_indexes,
    create_table,
    date,
    drop_indexes,
    drop_table,
    integer,
    real,
    string,
)

revision: str = "alerts_0003"
down_revision: str | None = "alerts_0002"

_INDEXES = (
    ("ix_alerts_org_seen", ["org_code", "last_seen", "id"]),
    ("ix_alerts_created", ["created_at"]),
)


def upgrade() -> None:
    create_indexes("alerts", *_INDEXES)
    create_table(
        "alert_rollup_days",
        date("day"),
        integer("version"),
        integer("rolled", nullable=True),
        real("national_target", nullable=True),
        real("member_target", nullable=True),
        key=("day",),
    )
    create_table(
        "alert_rollup",
        date("day"),
        string("severity", 16),
        *(integer(n) for n in ("alerts", "acknowledged", "closed")),
        real("tta_seconds"),
        real("ttr_seconds"),
        integer("within_national"),
        integer("within_member"),
        key=("day", "severity"),
    )


def downgrade() -> None:
    drop_table("alert_rollup")
    drop_table("alert_rollup_days")
    drop_indexes("alerts", *_INDEXES)
