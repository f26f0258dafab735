"""feeds, lifecycle, sightings, block lists

Create Date: 2026-12-01 08:31:01.851620
"""

import sqlalchemy as sa
from alembic import op

from bastion.store.migrations.helpers import (
    big_integer,
    boolean,
    child_table,
    create_table,
    drop_table,
    integer,
    json,
    org_code,
    string,
    text,
    utc,
)

revision: str = "intel_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    create_table(
        "intel_allowlist",
        string("type", 16),
        string("value", 2048),
        text("reason"),
        utc("created_at"),
        unique=[("type", "value")],
    )
    create_table(
        "intel_changes",
        string("type", 16),
        string("value", 2048),
        string("source", 100, nullable=True),
        string("change", 16),
        text("reason"),
        integer("pull_id", nullable=True),
        utc("at"),
        indexes=["at", ("ix_intel_changes_indicator", ["type", "value"])],
    )

    create_table(
        "intel_feeds",
        string("name", 100),
        string("kind", 32),
        text("url"),
        integer("interval_seconds"),
        json("options"),
        boolean("enabled"),
        string("etag", 512, nullable=True),
        string("last_modified", 64, nullable=True),
        string("cursor", 64, nullable=True),
        utc("last_pull_at", nullable=True),
        utc("created_at"),
        unique=[("name",)],
    )
    create_table(
        "intel_policies",
        string("name", 100),
        json("kinds"),
        json("actions"),
        integer("min_confidence"),
        string("max_tlp", 16),
        utc("created_at"),
        unique=[("name",)],
    )
    create_table(
        "intel_retrohunts",
        utc("started_at"),
        utc("since", nullable=True),
        integer("days"),
        integer("indicators"),
        big_integer("events"),
        integer("alerts"),
        indexes=["started_at"],
    )

    create_table(
        "intel_sightings",
        string("indicator", 2100),
        org_code(),
        utc("first_seen"),
        utc("last_seen"),
        big_integer("count"),
        unique=[("indicator", "org_code")],
        indexes=["last_seen", "org_code"],
    )

    create_table(
        "intel_devices",
        string("name", 100),
        integer("policy_id"),
        string("token_hash", 64),
        utc("created_at"),
        utc("revoked_at", nullable=True),
        utc("last_pull_at", nullable=True),
        references={"policy_id": "intel_policies"},
        unique=[("name",), ("token_hash",)],
        indexes=["policy_id"],
    )

    child_table(
        "intel_feed_pulls",
        "feed_id",
        "intel_feeds",
        utc("started_at"),
        utc("finished_at", nullable=True),
        string("status", 16),
        integer("http_status", nullable=True),
        integer("read"),
        integer("added"),
        integer("changed"),
        integer("unchanged"),
        integer("expired"),
        integer("skipped"),
        text("reason"),
        json("problems"),
    )

    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tlp", sa.String(length=16), server_default="AMBER", nullable=False)
        )
        batch_op.add_column(utc("listed_at", nullable=True))
        batch_op.create_index(batch_op.f("ix_indicators_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicators_updated_at"))
        batch_op.drop_column("listed_at")
        batch_op.drop_column("tlp")

    drop_table("intel_feed_pulls", "feed_id")
    drop_table("intel_devices", "policy_id")
    drop_table("intel_sightings", "org_code", "last_seen")
    drop_table("intel_retrohunts", "started_at")
    drop_table("intel_policies")
    drop_table("intel_feeds")
    drop_table("intel_changes", ("ix_intel_changes_indicator", ["type", "value"]), "at")
    drop_table("intel_allowlist")
