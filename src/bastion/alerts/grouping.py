"""Alert groups: one incident, one group, whichever detectors fired.

Alerts of the same organisation, the same host and the same observable (the
remote address, the indicator's value) whose spans come within ``window`` of one
another share a group id, across kinds: the indicator alert, the built-in check
and the Sigma rule raised by one port scan are one group. A group's id is the id
of its first alert. A new alert joins the open group it touches (one SQL query
per chunk of observables, then a Polars join); new alerts that touch no stored
group chain among themselves. ``split`` moves a wrongly grouped alert out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import polars as pl
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bastion.alerts.models import AlertRow
from bastion.core.events import TIMESTAMP

_IN_CHUNK = 500
_PLACE = ["org_code", "host", "observable"]
_COLUMNS = {
    "id": pl.Int64(),
    "group_id": pl.Int64(),
    "org_code": pl.String(),
    "host": pl.String(),
    "observable": pl.String(),
    "first_seen": TIMESTAMP,
    "last_seen": TIMESTAMP,
}


def _frame(rows: Sequence[tuple[object, ...]]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=_COLUMNS, orient="row")


def _stored_groups(
    session: Session, fresh: pl.DataFrame, window: timedelta, open_states: Sequence[str]
) -> pl.DataFrame:
    """Every stored, grouped, open alert a fresh one could join, in one query per chunk."""
    observables = fresh["observable"].drop_nulls().unique().sort().to_list()
    earliest, latest = fresh["first_seen"].min(), fresh["last_seen"].max()
    assert isinstance(earliest, datetime)
    assert isinstance(latest, datetime)
    fresh_ids = set(fresh["id"].to_list())
    found: list[tuple[object, ...]] = []
    for start in range(0, len(observables), _IN_CHUNK):
        found.extend(
            tuple(row)
            for row in session.execute(
                select(*(getattr(AlertRow, c) for c in _COLUMNS)).where(
                    AlertRow.observable.in_(observables[start : start + _IN_CHUNK]),
                    AlertRow.group_id.is_not(None),
                    AlertRow.state.in_(open_states),
                    AlertRow.last_seen >= earliest - window,
                    AlertRow.first_seen <= latest + window,
                )
            )
            if row[0] not in fresh_ids
        )
    return _frame(found)


def assign_groups(
    session: Session, rows: Sequence[AlertRow], window: timedelta, open_states: Sequence[str]
) -> int:
    """Give each new (flushed) alert of ``rows`` its group id; return how many joined a group."""
    if not rows:
        return 0
    fresh = _frame(
        [(r.id, None, r.org_code, r.host, r.observable, r.first_seen, r.last_seen) for r in rows]
    )
    stored = _stored_groups(session, fresh, window, open_states)
    # The stored group each fresh alert touches (the most recently seen one).
    joined = (
        fresh.select("id", *_PLACE, "first_seen", "last_seen")
        .join(
            stored.select(
                *_PLACE,
                "group_id",
                pl.col("first_seen").alias("_sf"),
                pl.col("last_seen").alias("_sl"),
            ),
            on=_PLACE,
            how="inner",
            nulls_equal=True,
        )
        .filter(
            (pl.col("first_seen") <= pl.col("_sl") + window)
            & (pl.col("last_seen") >= pl.col("_sf") - window)
        )
        .sort("_sl", "group_id")
        .group_by("id")
        .agg(pl.col("group_id").last().alias("_joined"))
    )
    # Fresh alerts chain among themselves: a new cluster after a gap longer than window.
    reach = pl.col("last_seen").cum_max().shift(1).over(_PLACE)
    clusters = (
        fresh.sort([*_PLACE, "first_seen", "id"], nulls_last=True)
        .with_columns(
            (reach.is_null() | (pl.col("first_seen") > reach + window))
            .cast(pl.Int64)
            .cum_sum()
            .alias("_cluster")
        )
        .join(joined, on="id", how="left")
        .with_columns(
            pl.coalesce(
                pl.col("_joined").drop_nulls().first().over("_cluster"),
                pl.col("id").min().over("_cluster"),
            ).alias("group_id")
        )
    )
    assigned = dict(zip(clusters["id"].to_list(), clusters["group_id"].to_list(), strict=True))
    for row in rows:
        row.group_id = assigned[row.id]
    session.flush()
    return joined.height


def group_members(session: Session, group_id: int) -> list[int]:
    """Return the ids of the alerts in group ``group_id``, oldest first."""
    return list(
        session.scalars(
            select(AlertRow.id).where(AlertRow.group_id == group_id).order_by(AlertRow.id)
        )
    )


def split_out(session: Session, row: AlertRow) -> tuple[int | None, int]:
    """Move ``row`` into a group of its own; return its old and new group ids.

    If the group was named after ``row``, the alerts left behind take the id of the
    oldest of them.
    """
    old = row.group_id
    if old == row.id:
        rest = [i for i in group_members(session, old) if i != row.id]
        if rest:
            session.execute(
                update(AlertRow)
                .where(AlertRow.group_id == old, AlertRow.id != row.id)
                .values(group_id=rest[0])
            )
    row.group_id = row.id
    session.flush()
    return old, row.id
