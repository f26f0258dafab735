"""alerts and ingest: boundary alerts, ingest sources and batches

Create Date: 2026-11-25 12:53:47.786087
"""

from bastion.store.migrations.helpers import (
    big_integer,
    boolean,
    create_table,
    created_updated,
    drop_table,
    integer,
    json,
    org_code,
    string,
    text,
    utc,
)

revision: str = "0002"
down_revision: str | None = "0001"


def upgrade() -> None:
    create_table(
        "alerts",
        org_code(nullable=True),
        string("host", 64, nullable=True),
        string("kind", 16),
        string("key", 200),
        string("title", 500),
        string("severity", 16),
        string("status", 16),
        boolean("retrospective"),
        string("indicator_type", 32, nullable=True),
        text("indicator_value", nullable=True),
        string("indicator_source", 200, nullable=True),
        string("indicator_threat", 200, nullable=True),
        big_integer("count"),
        utc("first_seen"),
        utc("last_seen"),
        json("evidence"),
        *created_updated(),
        indexes=[
            "last_seen",
            ("ix_alerts_match", ["key", "last_seen"]),
            "org_code",
            "severity",
            "status",
        ],
    )

    create_table(
        "ingest_batches",
        string("batch_id", 128),
        string("source_key", 256),
        integer("events"),
        integer("rejects"),
        utc("processed_at"),
        key=("batch_id",),
        indexes=["source_key"],
    )

    create_table(
        "ingest_sources",
        string("key", 256),
        text("path"),
        string("format", 32),
        big_integer("offset"),
        big_integer("size", nullable=True),
        boolean("done"),
        utc("updated_at"),
        key=("key",),
    )


def downgrade() -> None:
    drop_table("ingest_sources")
    drop_table("ingest_batches", "source_key")
    drop_table(
        "alerts",
        "status",
        "severity",
        "org_code",
        ("ix_alerts_match", ["key", "last_seen"]),
        "last_seen",
    )
