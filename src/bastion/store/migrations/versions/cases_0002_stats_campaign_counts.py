"""cases: indexes for the response-time statistics; each observable's spread, kept

The statistics read the cases created or closed in a period: an index on
``closed_at`` lets both halves of that condition use an index (the table was
scanned). The open cases by age are counted from one index on status, merge and
creation time alone, never the table.

``case_campaigns`` holds, for each observable of any case, how many organisations
and cases have it: the campaign list shows those in the most organisations first,
and counted over every observable of every case it cost a join of both tables per
request. The cases service recounts an observable whenever an observable or a
case's organisations change; existing observables are counted here.

Revision ID: cases_0002
Revises: cases_0001
Create Date: 2026-12-07 06:30:00
"""

from alembic import op

from bastion.store.migrations.helpers import (
    create_indexes,
    create_table,
    drop_indexes,
    drop_table,
    integer,
    string,
)

revision: str = "cases_0002"
down_revision: str | None = "cases_0001"

_INDEXES = (
    "closed_at",
    ("ix_cases_open_age", ["status", "merged_into", "created_at"]),
)
_SPREAD = ("ix_case_campaigns_spread", ["organisations", "value"])


def upgrade() -> None:
    create_indexes("cases", *_INDEXES)
    create_table(
        "case_campaigns",
        string("kind", 16),
        string("value", 2000),
        integer("organisations"),
        integer("cases"),
        key=("kind", "value"),
        indexes=[_SPREAD],
    )
    op.execute(
        "INSERT INTO case_campaigns (kind, value, organisations, cases) "
        "SELECT o.kind, o.value, COUNT(DISTINCT c.org_code), COUNT(DISTINCT o.case_id) "
        "FROM case_observables o JOIN case_orgs c ON c.case_id = o.case_id "
        "GROUP BY o.kind, o.value"
    )


def downgrade() -> None:
    drop_table("case_campaigns", _SPREAD)
    drop_indexes("cases", *_INDEXES)
