"""indicators: threat indicators, one row per source's listing

Create Date: 2026-11-25 13:30:00
"""

from bastion.store.migrations.helpers import (
    create_table,
    created_updated,
    drop_table,
    integer,
    json,
    string,
    utc,
)

revision: str = "0003"
down_revision: str | None = "0002"


def upgrade() -> None:
    create_table(
        "indicators",
        string("type", 16),
        string("value", 2048),
        string("source", 100),
        string("severity", 16),
        integer("confidence"),
        string("action", 8),
        string("threat", 200),
        json("tags"),
        utc("first_seen", nullable=True),
        utc("last_seen", nullable=True),
        utc("valid_until", nullable=True),
        *created_updated(),
        unique=[("type", "value", "source")],
        indexes=["valid_until"],
    )


def downgrade() -> None:
    drop_table("indicators", "valid_until")
