"""alerts: the rules page's national roll-up of the whole past days of its week

``alert_rule_summary`` holds the national count of the rule alerts last seen in the
week's whole past days by the rule their key names; its row of ``alert_summary_state``
(id 2) records which days those are and the versions of ``alert_summary_days`` it was
taken at (see ``bastion.alerts.summary.count_rule_alerts``). It starts empty: the
first rules page after the upgrade counts the alerts.

Revision ID: alerts_0006
Revises: alerts_0005
Create Date: 2026-12-07 08:45:00
"""

from bastion.store.migrations.helpers import create_table, drop_table, integer, string, text

revision: str = "alerts_0006"
down_revision: str | None = "alerts_0005"


def upgrade() -> None:
    create_table("alert_rule_summary", string("family", 16), text("rule"), integer("alerts"))


def downgrade() -> None:
    drop_table("alert_rule_summary")
