"""assure: framework libraries, returns, published versions (append-only), reviews, actions, scores

Create Date: 2026-12-06 23:30:00
"""

from bastion.store.migrations.helpers import (
    append_only,
    boolean,
    create_table,
    date,
    drop_append_only,
    drop_table,
    integer,
    json,
    org_table,
    real,
    string,
    text,
    utc,
)

revision: str = "assure_0001"
down_revision: str | None = "0003"


def upgrade() -> None:
    create_table(
        "assure_frameworks",
        string("key", 40),
        string("version", 20),
        string("title", 200),
        string("kind", 20),
        integer("outcomes"),
        integer("statements"),
        json("document"),
        utc("imported_at"),
        string("imported_by", 120),
        unique=[("key", "version")],
    )
    org_table(
        "assure_returns",
        string("period", 9),
        string("framework", 64),
        string("org_type", 32),
        string("region", 64),
        string("icb", 120),
        string("profile", 16),
        string("state", 16),
        text("marks"),
        json("comments"),
        json("evidence"),
        json("owners"),
        json("facts"),
        integer("version"),
        string("status", 40, nullable=True),
        text("outcome_marks"),
        utc("published_at", nullable=True),
        date("deadline"),
        string("source", 16),
        json("drift"),
        integer("drift_count"),
        boolean("published_late"),
        utc("created_at"),
        utc("updated_at"),
        unique=[("org_code", "period", "framework")],
        indexes=["period", "status", "drift_count"],
    )
    create_table(
        "assure_return_versions",
        integer("return_id"),
        integer("version"),
        utc("published_at"),
        string("published_by", 120),
        text("marks"),
        text("outcome_marks"),
        string("status", 40, nullable=True),
        json("comments"),
        json("diff"),
        references={"return_id": "assure_returns"},
        unique=[("return_id", "version")],
        indexes=["return_id"],
    )
    append_only("assure_return_versions", "a published return version is never changed")
    create_table(
        "assure_reviews",
        integer("return_id"),
        string("kind", 16),
        string("reviewer", 120),
        string("state", 24),
        json("comments"),
        utc("updated_at"),
        references={"return_id": "assure_returns"},
        unique=[("return_id", "kind")],
        indexes=["return_id", "reviewer"],
    )
    org_table(
        "assure_actions",
        string("period", 9),
        string("framework_key", 40),
        string("outcome", 40),
        string("text", 1000),
        string("owner", 120),
        date("due"),
        string("status", 16),
        integer("inherited_from", nullable=True),
        utc("created_at"),
    )
    org_table(
        "assure_scores",
        string("org_type", 32),
        utc("at"),
        real("score"),
        json("controls"),
        indexes=["at"],
    )


def downgrade() -> None:
    drop_table("assure_scores", "org_code", "at")
    drop_table("assure_actions", "org_code")
    drop_table("assure_reviews", "return_id", "reviewer")
    drop_table("assure_return_versions", "return_id")
    drop_append_only("assure_return_versions")
    drop_table("assure_returns", "org_code", "period", "status", "drift_count")
    drop_table("assure_frameworks")
