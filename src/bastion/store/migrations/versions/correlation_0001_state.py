"""correlation: the open windows of correlation rules, per state partition

Create Date: 2026-12-01 09:00:00
"""

import sqlalchemy as sa

from bastion.store.migrations.helpers import (
    big_integer,
    create_table,
    drop_table,
    integer,
    string,
    utc,
)

revision: str = "correlation_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    create_table(
        "correlation_state",
        string("partition", 100),
        string("rule_key", 300),
        string("fingerprint", 64),
        integer("rows"),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        utc("watermark", nullable=True),
        big_integer("next_seq"),
        big_integer("batches"),
        utc("updated_at"),
        key=("partition", "rule_key"),
    )


def downgrade() -> None:
    drop_table("correlation_state")
