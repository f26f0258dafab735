"""auth: windowed rate-limit counters shared by every server process

Create Date: 2026-12-01 12:00:00
"""

from bastion.store.migrations.helpers import big_integer, create_table, drop_table, integer, string

revision: str = "auth_0002"
down_revision: str | None = "auth_0001"


def upgrade() -> None:
    create_table(
        "auth_rate_counters",
        string("scope", 32),
        string("key", 200),
        big_integer("bucket"),
        integer("hits"),
        key=("scope", "key", "bucket"),
    )


def downgrade() -> None:
    drop_table("auth_rate_counters")
