"""alerts: the overview's national roll-up of the whole past days of its fortnight

``alert_summary_days`` counts, per UTC day of last seen, the changes to that day's
alerts (new, extended onto or off it, gone live); ``alert_summary`` holds the national
sums of the alerts last seen in the fortnight's whole past days, by day, organisation,
rule and indicator; ``alert_summary_state`` which days those are and the versions
they were taken at (see ``bastion.alerts.summary``). All start empty: the first
overview after the upgrade sums the alerts.

Revision ID: alerts_0005
Revises: alerts_0004
Create Date: 2026-12-07 08:10:00
"""

from bastion.store.migrations.helpers import (
    big_integer,
    create_table,
    date,
    drop_table,
    integer,
    string,
    text,
)

revision: str = "alerts_0005"
down_revision: str | None = "alerts_0004"

_INDEXES = (
    ("ix_alert_summary_top", ["kind", "events"]),
    ("ix_alert_summary_head", ["kind", "head"]),
)


def upgrade() -> None:
    create_table("alert_summary_days", date("day"), integer("version"), key=("day",))
    create_table(
        "alert_summary",
        string("kind", 16),
        text("name"),
        text("label"),
        string("head", 64),
        integer("alerts"),
        integer("blocked"),
        big_integer("events"),
        indexes=_INDEXES,
    )
    create_table(
        "alert_summary_state",
        date("first_day", nullable=True),
        date("end_day", nullable=True),
        big_integer("versions", nullable=True),
    )


def downgrade() -> None:
    drop_table("alert_summary_state")
    drop_table("alert_summary", *_INDEXES)
    drop_table("alert_summary_days")
