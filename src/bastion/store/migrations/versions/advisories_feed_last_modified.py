"""advisories: a vulnerability feed remembers its Last-Modified date for conditional GETs

Create Date: 2026-12-06 18:20:00
"""

from alembic import op

from bastion.store.migrations.helpers import string

revision: str = "advisories_feed_last_modified"
down_revision: str | None = "advisories_0001"


def upgrade() -> None:
    op.add_column("adv_feeds", string("last_modified", 100, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("adv_feeds") as batch:
        batch.drop_column("last_modified")
