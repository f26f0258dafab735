"""Alert groups: one incident, one group, whichever detectors fired.

Alerts of the same organisation, the same host and the same observable (the
remote address, the indicator's value) whose spans come within ``window`` of one
another share a group id, across kinds: the indicator alert, the built-in check
and the Sigma rule raised by one port scan are one group. A group's id is the id
of its first alert. A new alert joins the open group it touches (one SQL query
per chunk of observables, then a Polars join); new alerts that touch no stored
group chain among themselves. New alerts are grouped before they are stored, so each
goes in with its group id (``alerts.store``), never one ORM object at a time. ``split`` moves a wrongly grouped alert out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

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
    "events": pl.List(pl.String()),
}


def event_keys(evidence: Sequence[dict[str, Any]] | None) -> list[str]:
    """Return where each evidence event is (``path#offset``): the events an alert was raised on."""
    return [
        f"{e['path']}#{e['offset']}"
        for e in evidence or []
        if e.get("path") is not None and e.get("offset") is not None
    ]


def _frame(rows: Sequence[tuple[object, ...]]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=_COLUMNS, orient="row")


def _stored_groups(
    session: Session, fresh: pl.DataFrame, window: timedelta, open_states: Sequence[str]
) -> pl.DataFrame:
    """Every stored, grouped, open alert a fresh one could join: same observable, or same
    organisation (for shared events), close in time; one query per chunk of each."""
    earliest, latest = fresh["first_seen"].min(), fresh["last_seen"].max()
    assert isinstance(earliest, datetime)
    assert isinstance(latest, datetime)
    fresh_ids = set(fresh["id"].to_list())
    found: dict[int, tuple[object, ...]] = {}
    columns = [getattr(AlertRow, c) for c in _COLUMNS if c != "events"]
    for column, values in (
        (AlertRow.observable, fresh["observable"].drop_nulls().unique().sort().to_list()),
        (AlertRow.org_code, fresh["org_code"].drop_nulls().unique().sort().to_list()),
    ):
        for start in range(0, len(values), _IN_CHUNK):
            query = select(*columns, AlertRow.evidence).where(
                column.in_(values[start : start + _IN_CHUNK]),
                AlertRow.group_id.is_not(None),
                AlertRow.state.in_(open_states),
                AlertRow.last_seen >= earliest - window,
                AlertRow.first_seen <= latest + window,
            )
            for row in session.execute(query):
                if row[0] not in fresh_ids:
                    found[row[0]] = (*row[:-1], event_keys(row[-1]))
    return _frame(list(found.values()))


def _components(nodes: pl.Series, edges: pl.DataFrame) -> pl.DataFrame:
    """Label each node with the smallest node of its connected component (``node``, ``label``)."""
    both = pl.concat([edges, edges.select(pl.col("b").alias("a"), pl.col("a").alias("b"))])
    labels = pl.DataFrame({"node": nodes.unique(), "label": nodes.unique()})
    while True:
        lowest = (
            both.join(labels, left_on="b", right_on="node")
            .group_by("a")
            .agg(pl.col("label").min().alias("_lowest"))
        )
        moved = labels.join(lowest, left_on="node", right_on="a", how="left").with_columns(
            pl.min_horizontal("label", "_lowest").alias("_new")
        )
        if moved.filter(pl.col("_new") < pl.col("label")).is_empty():
            return labels
        labels = moved.select("node", pl.col("_new").alias("label"))


def plan_groups(
    session: Session, fresh: pl.DataFrame, window: timedelta, open_states: Sequence[str]
) -> pl.DataFrame:
    """Return the group id of each new (stored) alert of ``fresh``: columns ``id``, ``group_id``.

    ``fresh`` has the columns of ``_COLUMNS`` but ``group_id``. Two alerts belong
    together when they share an evidence event (detectors that fired on the same
    events), or have the same organisation, host and observable and come within
    ``window`` of each other; groups are what these links connect. A new group that
    reaches a stored open group takes its id (the most recent, if it reaches several);
    otherwise the id of its oldest alert.
    """
    fresh = fresh.select(c for c in _COLUMNS if c != "group_id")
    stored = _stored_groups(session, fresh, window, open_states)
    touching = (
        fresh.select("id", *_PLACE, "first_seen", "last_seen")
        .join(
            stored.select(*_PLACE, "group_id", pl.col("first_seen").alias("_sf"),
                          pl.col("last_seen").alias("_sl")),
            on=_PLACE, how="inner", nulls_equal=True,
        )
        .filter(
            (pl.col("first_seen") <= pl.col("_sl") + window)
            & (pl.col("last_seen") >= pl.col("_sf") - window)
        )
        .select(pl.col("id").alias("a"), (-pl.col("group_id")).alias("b"))
    )  # fmt: skip
    reach = pl.col("last_seen").cum_max().shift(1).over(_PLACE)
    chained = (
        fresh.sort([*_PLACE, "first_seen", "id"], nulls_last=True)
        .with_columns(
            (reach.is_null() | (pl.col("first_seen") > reach + window))
            .cast(pl.Int64)
            .cum_sum()
            .alias("_cluster")
        )
        .select(pl.col("id").alias("a"), pl.col("id").min().over("_cluster").alias("b"))
    )
    # The same event is the same organisation's and host's: keyed by all three.
    event = ["org_code", "host", "events"]
    fresh_events = (
        fresh.select("id", *event).explode("events", empty_as_null=True).drop_nulls("events")
    )
    stored_events = (
        stored.select("group_id", *event).explode("events", empty_as_null=True).drop_nulls("events")
    )
    shared = fresh_events.select(pl.col("id").alias("a"), pl.col("id").min().over(event).alias("b"))
    shared_stored = fresh_events.join(stored_events, on=event, nulls_equal=True).select(
        pl.col("id").alias("a"), (-pl.col("group_id")).alias("b")
    )
    edges = pl.concat([touching, chained, shared, shared_stored]).filter(pl.col("a") != pl.col("b"))
    labels = _components(pl.concat([fresh["id"], -stored["group_id"]]), edges)
    return labels.filter(pl.col("node") > 0).select(
        pl.col("node").alias("id"), pl.col("label").abs().alias("group_id")
    )


def fresh_frame(rows: Sequence[tuple[object, ...]]) -> pl.DataFrame:
    """Return new alerts' (id, None, org_code, host, observable, first_seen, last_seen,
    event keys) rows as the frame ``plan_groups`` takes."""
    return _frame(rows)


def assign_groups(
    session: Session, rows: Sequence[AlertRow], window: timedelta, open_states: Sequence[str]
) -> None:
    """Give each new (flushed) ORM alert of ``rows`` its group id (few rows: external sources)."""
    if not rows:
        return
    plan = plan_groups(
        session,
        _frame(
            [
                (
                    r.id,
                    None,
                    r.org_code,
                    r.host,
                    r.observable,
                    r.first_seen,
                    r.last_seen,
                    event_keys(r.evidence),
                )
                for r in rows
            ]
        ),
        window,
        open_states,
    )
    assigned = dict(plan.iter_rows())
    for row in rows:
        row.group_id = assigned[row.id]
    session.flush()


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
