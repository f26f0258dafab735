"""Rate-limit counters in SQL, shared by every server process on one database.

A limit counts each key's hits per time bucket (a bucket is a tenth of the limit's
window, numbered ``time // bucket length``); the window's hits are the sum over its
last buckets. ``count_hit`` adds one hit and reads the window in one transaction: the
upsert locks the current bucket's row, so two processes counting the same key at
once see each other's hits and never let the limit be passed.

A server process may count several hits at once and hand them out itself
(``web.security.LeasedRateLimiter``), giving back what it did not use. The
statements are built once, with bound parameters, and run on a plain connection
(no ORM session).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bastion.auth.models import RateCounterRow

KEY_LENGTH = 200

_T: Table = RateCounterRow.__table__  # type: ignore[assignment]
_THIS_KEY = (_T.c.scope == bindparam("p_scope"), _T.c.key == bindparam("p_key"))
_IN_WINDOW = (
    *_THIS_KEY,
    _T.c.bucket >= bindparam("p_oldest"),
    _T.c.bucket <= bindparam("p_bucket"),
)
_WINDOW_TOTAL = select(func.coalesce(func.sum(_T.c.hits), 0)).where(*_IN_WINDOW)
_WINDOW = select(_T.c.bucket, _T.c.hits).where(*_IN_WINDOW).order_by(_T.c.bucket)
_UNCOUNT = (
    update(_T)
    .where(*_THIS_KEY, _T.c.bucket == bindparam("p_bucket"))
    .values(hits=_T.c.hits - bindparam("p_hits"))
)
_SWEEP = delete(_T).where(_T.c.scope == bindparam("p_scope"), _T.c.bucket < bindparam("p_before"))
_COUNT: dict[str, Any] = {}


def _count_statement(dialect: str) -> Any:
    """Return the upsert that counts one hit, for PostgreSQL or SQLite (built once each)."""
    if dialect not in _COUNT:
        insert = postgres_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(_T).values(
            scope=bindparam("p_scope"),
            key=bindparam("p_key"),
            bucket=bindparam("p_bucket"),
            hits=bindparam("p_hits"),
        )
        _COUNT[dialect] = statement.on_conflict_do_update(
            index_elements=["scope", "key", "bucket"],
            set_={"hits": _T.c.hits + statement.excluded.hits},
        )
    return _COUNT[dialect]


def count_hit(
    connection: Connection,
    scope: str,
    key: str,
    *,
    bucket: int,
    oldest: int,
    limit: int,
    hits: int = 1,
) -> list[tuple[int, int]] | None:
    """Count ``hits`` hits of ``key`` in ``bucket`` unless buckets ``oldest``.. would pass ``limit``.

    Returns None when the hits are counted; otherwise the window's (bucket, hits),
    oldest first, to tell when a hit will be allowed again (refused hits are not
    counted). The caller's transaction commits it.
    """
    params = {
        "p_scope": scope,
        "p_key": key[:KEY_LENGTH],
        "p_bucket": bucket,
        "p_oldest": oldest,
        "p_hits": hits,
    }
    connection.execute(_count_statement(connection.dialect.name), params)
    if int(connection.execute(_WINDOW_TOTAL, params).scalar_one()) <= limit:
        return None
    connection.execute(_UNCOUNT, params)
    return [(int(b), int(n)) for b, n in connection.execute(_WINDOW, params)]


def give_back(connection: Connection, scope: str, key: str, *, bucket: int, hits: int) -> None:
    """Uncount ``hits`` hits of ``key`` in ``bucket`` (counted ahead, never used)."""
    params = {"p_scope": scope, "p_key": key[:KEY_LENGTH], "p_bucket": bucket, "p_hits": hits}
    connection.execute(_UNCOUNT, params)


def sweep(connection: Connection, scope: str, *, before: int) -> int:
    """Forget the counters of ``scope`` older than bucket ``before``; return how many."""
    result = connection.execute(_SWEEP, {"p_scope": scope, "p_before": before})
    return int(result.rowcount or 0)
