"""alerts: national roll-ups of the rules page's week and of the alerts by verdict

``alert_rule_summary`` holds the national count of the rule alerts last seen in the
rules page's week's whole past days by the rule their key names, with its row of
``alert_summary_state`` (id 2) recording which days it counts and the versions of
``alert_summary_days`` it was taken at; ``alert_verdict_days`` the national count of
the alerts last seen on each past day, and of those live (the overview's totals), each
day at the version it was counted at (see ``bastion.alerts.summary``). Both start
empty: their first reader after the upgrade counts the alerts.

Revision ID: alerts_0006
Revises: alerts_0005
Create Date: 2026-12-07 08:45:00
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

revision: str = "alerts_0006"
down_revision: str | None = "alerts_0005"


def upgrade() -> None:
    create_table("alert_rule_summary", string("family", 16), text("rule"), integer("alerts"))
    create_table(
        "alert_verdict_days",
        date("day"),
        integer("version"),
        big_integer("alerts"),
        big_integer("live"),
        key=("day",),
    )


def downgrade() -> None:
    drop_table("alert_verdict_days")
    drop_table("alert_rule_summary")
