"""Rate-limit counters in SQL, shared by every server process on one database.

A limit counts each key's hits per time bucket (a bucket is a tenth of the limit's
window, numbered ``time // bucket length``); the window's hits are the sum over its
last buckets. ``count_hit`` adds one hit and reads the window in one transaction: the
upsert locks the current bucket's row, so two processes counting the same key at
once see each other's hits and never let the limit be passed.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bastion.auth.models import RateCounterRow

KEY_LENGTH = 200


def count_hit(
    session: Session, scope: str, key: str, *, bucket: int, oldest: int, limit: int
) -> list[tuple[int, int]] | None:
    """Count one hit of ``key`` in ``bucket`` unless buckets ``oldest``.. hold ``limit`` already.

    Returns None when the hit is counted; otherwise the window's (bucket, hits),
    oldest first, to tell when a hit will be allowed again (the refused hit is not
    counted). Flushes; the caller commits.
    """
    key = key[:KEY_LENGTH]
    insert = postgres_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(RateCounterRow).values(scope=scope, key=key, bucket=bucket, hits=1)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["scope", "key", "bucket"],
            set_={"hits": RateCounterRow.hits + 1},
        )
    )
    window = [
        (int(b), int(n))
        for b, n in session.execute(
            select(RateCounterRow.bucket, RateCounterRow.hits)
            .where(
                RateCounterRow.scope == scope,
                RateCounterRow.key == key,
                RateCounterRow.bucket >= oldest,
                RateCounterRow.bucket <= bucket,
            )
            .order_by(RateCounterRow.bucket)
        )
    ]
    if sum(n for _, n in window) <= limit:
        return None
    session.execute(
        update(RateCounterRow)
        .where(
            RateCounterRow.scope == scope,
            RateCounterRow.key == key,
            RateCounterRow.bucket == bucket,
        )
        .values(hits=RateCounterRow.hits - 1)
    )
    return [(b, n - 1) if b == bucket else (b, n) for b, n in window]


def sweep(session: Session, scope: str, *, before: int) -> int:
    """Forget the counters of ``scope`` older than bucket ``before``; return how many."""
    result = session.execute(
        delete(RateCounterRow).where(RateCounterRow.scope == scope, RateCounterRow.bucket < before)
    )
    return int(getattr(result, "rowcount", 0) or 0)
