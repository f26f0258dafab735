"""auth: windowed rate-limit counters shared by every server process

Create Date: 2026-12-01 12:00:00
"""

from alembic import op

from bastion.store.migrations.helpers import big_integer, drop_table, integer, primary_key, string

revision: str = "auth_0002"
down_revision: str | None = "auth_0001"


def upgrade() -> None:
    op.create_table(
        "auth_rate_counters",
        string("scope", 32),
        string("key", 200),
        big_integer("bucket"),
        integer("hits"),
        primary_key("auth_rate_counters", "scope", "key", "bucket"),
    )


def downgrade() -> None:
    drop_table("auth_rate_counters")
