"""advisories: a vulnerability feed remembers its Last-Modified date for conditional GETs

Revision ID: advisories_feed_last_modified
Revises: advisories_0001
Create Date: 2026-12-06 18:20:00
"""

import sqlalchemy as sa
from alembic import op

revision: str = "advisories_feed_last_modified"
down_revision: str | None = "advisories_0001"


def upgrade() -> None:
    op.add_column("adv_feeds", sa.Column("last_modified", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("adv_feeds") as batch:
        batch.drop_column("last_modified")
