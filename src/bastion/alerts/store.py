"""The alert store: every alert, whoever raised it, aggregated per member host in SQL.

The detect and verdict stages hand over *candidates*, one row per event that hit
an indicator or a rule. ``record_alerts`` groups them with Polars first, so the
SQL work is per group of events, never per event:

* events of one (organisation, host, kind, key) belong together while each is
  within ``window`` of the one before; a longer gap starts a new group;
* a group extends a stored open alert of the same identity whose span, widened
  by ``window``, touches the group's span; otherwise it becomes a new alert;
* an alert's verdict is ``blocked`` while the device blocked every one of its events,
  and ``live`` once any event got through;
* a closed alert is never extended: new events open a new alert;
* every new alert joins an alert group (see ``bastion.alerts.grouping``).

New alerts are grouped before they are stored and go in, group ids and all, by one
bulk insert: a hundred thousand new alerts never become a hundred thousand ORM objects.
Extended alerts are few, and stay ORM rows.

``record_alerts`` flushes but never commits: the pipeline records alerts, marks
the batch and saves the checkpoint in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import polars as pl
from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from bastion.alerts import rollup
from bastion.alerts.grouping import event_keys, fresh_frame, plan_groups
from bastion.alerts.models import ALERTS_TABLE, AlertRow
from bastion.core.errors import InputError
from bastion.core.events import CANDIDATE_SCHEMA, TIMESTAMP, AlertKind
from bastion.core.records import from_row
from bastion.core.timeutil import as_utc, utcnow
from bastion.core.types import Severity
from bastion.store.bulk import insert_rows


class Verdict(StrEnum):
    """Whether the threat got through, decided from the evidence's ``event.type``."""

    BLOCKED = "blocked"  # the device blocked every event so far
    LIVE = "live"  # at least one event was not blocked


class TriageState(StrEnum):
    """Where an analyst's work on an alert stands."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class Resolution(StrEnum):
    """Why an alert was closed."""

    TRUE_POSITIVE_IMPACT = "true_positive_impact"
    TRUE_POSITIVE_NO_IMPACT = "true_positive_no_impact"
    FALSE_POSITIVE = "false_positive"
    BENIGN = "benign"
    DUPLICATE = "duplicate"
    NOT_APPLICABLE = "not_applicable"


OPEN_STATES = (TriageState.NEW.value, TriageState.ACKNOWLEDGED.value, TriageState.IN_PROGRESS.value)
EVIDENCE_LIMIT = 5
_RAW_LIMIT = 4096  # characters of a raw line kept as evidence
_IN_CHUNK = 500  # keys per IN (...) list, well under every backend's parameter limit

# How many characters of a candidate text are stored (columns not listed: all of them).
_LENGTHS = {
    "organization.id": 16,
    "host.ip": 64,
    "key": 200,
    "title": 500,
    "indicator.type": 32,
    "indicator.source": 200,
    "indicator.threat": 200,
    "observable": 200,
}
_IDENTITY = ["organization.id", "host.ip", "kind", "key"]
# What a group takes from the first of its events that has it.
_FIRST_KNOWN = (
    "title",
    "indicator.type",
    "indicator.value",
    "indicator.source",
    "indicator.threat",
    "observable",
)
_RANKS = {s.value: s.rank for s in Severity}


@dataclass(frozen=True)
class Evidence:
    """One sample event behind an alert: where it is and what it said."""

    timestamp: datetime | None
    dataset: str | None
    path: str | None
    offset: int | None
    raw: str | None


@dataclass(frozen=True)
class Alert:
    """An alert as stored."""

    id: int
    org: str | None
    host: str | None
    kind: AlertKind
    key: str
    title: str
    severity: Severity
    verdict: str
    retrospective: bool
    indicator_type: str | None
    indicator_value: str | None
    indicator_source: str | None
    indicator_threat: str | None
    count: int
    first_seen: datetime
    last_seen: datetime
    evidence: tuple[Evidence, ...]
    created_at: datetime
    updated_at: datetime
    state: str = TriageState.NEW.value
    resolution: str | None = None
    assignee: str | None = None
    group_id: int | None = None
    observable: str | None = None
    source: str | None = None
    source_ref: str | None = None


@dataclass(frozen=True)
class AlertStats:
    """What one ``record_alerts`` call did."""

    events: int = 0  # candidate events read
    groups: int = 0  # groups after aggregation
    created: int = 0  # new alerts
    extended: int = 0  # stored alerts that grew


def _evidence(item: dict[str, Any]) -> Evidence:
    stamp = item.get("timestamp")
    return Evidence(
        timestamp=as_utc(datetime.fromisoformat(stamp)) if stamp else None,
        dataset=item.get("dataset"),
        path=item.get("path"),
        offset=item.get("offset"),
        raw=item.get("raw"),
    )


# Stored values to their members by a dict: an Enum call a row costs more than the lookup.
_KINDS = {k.value: k for k in AlertKind}
_SEVERITIES = {s.value: s for s in Severity}
# The fields an alert copies from its row as they are.
_COPIED = tuple(
    f.name for f in fields(Alert) if f.name not in ("org", "kind", "severity", "evidence")
)
# The columns an alert is read from, without its evidence (a list never shows it; it is most
# of a row's bytes): what a select for ``from_selected`` names, the evidence column after.
ALERT_COLUMNS = tuple(ALERTS_TABLE.c[n] for n in (*_COPIED, "org_code", "kind", "severity"))


def to_domain(row: Any, *, evidence: bool = True) -> Alert:
    """Return an alert from its ORM row (with its evidence unless not ``evidence``)."""
    return from_row(
        Alert,
        row,
        org=row.org_code,
        kind=_KINDS[row.kind],
        severity=_SEVERITIES[row.severity],
        evidence=tuple(_evidence(e) for e in row.evidence or []) if evidence else (),
    )


def from_selected(names: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[Alert]:
    """Return the alerts of ``rows``, selected with the columns ``names`` (``ALERT_COLUMNS``,
    the evidence's too or not; others are left out). Read by position: a selected row's
    attribute access costs more than building its alert."""
    alerts = []
    for values in rows:
        row = dict(zip(names, values, strict=True))
        stored = row.get("evidence")
        alerts.append(
            Alert(
                **{name: row[name] for name in _COPIED},
                org=row["org_code"],
                kind=_KINDS[row["kind"]],
                severity=_SEVERITIES[row["severity"]],
                evidence=tuple(_evidence(e) for e in stored) if stored else (),
            )
        )
    return alerts


def _conform(candidates: pl.DataFrame) -> pl.DataFrame:
    """Select and type the candidate columns; raise InputError on what cannot be an alert."""
    missing = [c for c in ("kind", "key", "title", "severity") if c not in candidates.columns]
    if missing:
        msg = f"alert candidates lack column(s) {', '.join(missing)}"
        raise InputError(msg)
    frame = candidates.select(
        (pl.col(name).cast(dtype) if name in candidates.columns else pl.lit(None, dtype)).alias(
            name
        )
        for name, dtype in CANDIDATE_SCHEMA.items()
    ).with_columns(
        pl.col("kind").str.to_lowercase(),
        pl.col("severity").str.to_lowercase(),
        *(pl.col(name).str.slice(0, length) for name, length in _LENGTHS.items()),
    )
    if frame.select(pl.any_horizontal(pl.col("kind", "key", "title").is_null()).any()).item():
        msg = "alert candidates need kind, key and title on every row; some are null"
        raise InputError(msg)
    bad_kinds = set(frame["kind"].unique().to_list()) - {k.value for k in AlertKind}
    bad_severities = set(frame["severity"].unique().to_list()) - set(_RANKS)
    if bad_kinds or bad_severities:
        msg = (
            f"alert candidates have unknown kind(s) {sorted(map(str, bad_kinds))} or "
            f"severity(ies) {sorted(map(str, bad_severities))}; kinds are indicator or rule, "
            f"severities {', '.join(_RANKS)}"
        )
        raise InputError(msg)
    return frame


def aggregate_candidates(
    candidates: pl.DataFrame,
    *,
    window: timedelta = timedelta(hours=1),
    evidence_limit: int = EVIDENCE_LIMIT,
    now: datetime | None = None,
) -> pl.DataFrame:
    """Group candidate events into alert-sized groups, one row per group, oldest first.

    An event without a timestamp counts as seen at ``now``.
    """
    frame = _conform(candidates)
    stamp = pl.col("@timestamp")
    evidence = pl.struct(
        stamp.dt.to_string("iso:strict").alias("timestamp"),
        pl.col("event.dataset").alias("dataset"),
        pl.col("log.file.path").alias("path"),
        pl.col("log.offset").alias("offset"),
        pl.col("event.original").str.slice(0, _RAW_LIMIT).alias("raw"),
    )
    seen = stamp.fill_null(pl.lit(as_utc(now or utcnow())).cast(TIMESTAMP))
    ordered = frame.with_columns(evidence.alias("_evidence"), seen.alias("@timestamp")).sort(
        [*_IDENTITY, "@timestamp"], nulls_last=True
    )
    # A new group starts at each identity's first event and after each gap longer than window.
    gap = pl.col("@timestamp").diff().over(_IDENTITY)
    grouped = ordered.with_columns(
        (gap.is_null() | (gap > window)).cast(pl.Int64).cum_sum().alias("_group")
    )

    return (
        grouped.group_by([*_IDENTITY, "_group"])
        .agg(
            pl.len().alias("count"),
            pl.col("@timestamp").min().alias("first_seen"),
            pl.col("@timestamp").max().alias("last_seen"),
            pl.col("blocked").fill_null(False).all().alias("all_blocked"),
            pl.col("severity").replace_strict(_RANKS, return_dtype=pl.Int8).max().alias("rank"),
            *(pl.col(name).drop_nulls().first() for name in _FIRST_KNOWN),
            pl.col("_evidence").head(evidence_limit).alias("evidence"),
        )
        .with_columns(
            pl.col("rank")
            .replace_strict({r: s for s, r in _RANKS.items()}, return_dtype=pl.String)
            .alias("severity"),
            pl.coalesce("observable", "indicator.value", "key")
            .str.slice(0, 200)
            .alias("observable"),
        )
        .drop("_group", "rank")
        .sort("first_seen", *_IDENTITY, nulls_last=True)
    )


def _open_alerts(
    session: Session, groups: pl.DataFrame, window: timedelta, retrospective: bool
) -> dict[tuple[Any, ...], list[AlertRow]]:
    """Load, in one query per chunk of keys, every open alert a group could extend."""
    keys = groups["key"].unique().sort().to_list()
    earliest = groups["first_seen"].min()
    latest = groups["last_seen"].max()
    assert isinstance(earliest, datetime)
    assert isinstance(latest, datetime)
    found: dict[tuple[Any, ...], list[AlertRow]] = defaultdict(list)
    for start in range(0, len(keys), _IN_CHUNK):
        rows = session.scalars(
            select(AlertRow)
            .where(
                AlertRow.key.in_(keys[start : start + _IN_CHUNK]),
                AlertRow.state.in_(OPEN_STATES),
                AlertRow.retrospective == retrospective,
                AlertRow.last_seen >= earliest - window,
                AlertRow.first_seen <= latest + window,
            )
            # Lock them (PostgreSQL) in one order, so concurrent workers never lose a count.
            .order_by(AlertRow.id)
            .with_for_update()
        )
        for row in rows:
            found[(row.org_code, row.host, row.kind, row.key)].append(row)
    return found


def _pick(
    rows: list[AlertRow], first: datetime, last: datetime, window: timedelta
) -> AlertRow | None:
    touching = [r for r in rows if first <= r.last_seen + window and last >= r.first_seen - window]
    return max(touching, key=lambda r: (r.last_seen, r.id or 0), default=None)


def _new_alert(
    group: dict[str, Any], verdict: Verdict, retrospective: bool, moment: datetime
) -> dict[str, Any]:
    """Return the row of a new alert made of one aggregated group."""
    return {
        "org_code": group["organization.id"],
        "host": group["host.ip"],
        "kind": group["kind"],
        "key": group["key"],
        "title": group["title"],
        "severity": group["severity"],
        "verdict": verdict.value,
        "state": TriageState.NEW.value,
        "observable": group["observable"],
        "retrospective": retrospective,
        "indicator_type": group["indicator.type"],
        "indicator_value": group["indicator.value"],
        "indicator_source": group["indicator.source"],
        "indicator_threat": group["indicator.threat"],
        "count": group["count"],
        "first_seen": group["first_seen"],
        "last_seen": group["last_seen"],
        "evidence": list(group["evidence"]),
        "created_at": moment,
        "updated_at": moment,
    }


def _extend(
    row: AlertRow,
    group: dict[str, Any],
    verdict: Verdict,
    evidence_limit: int,
    moment: datetime,
    touched: set[date],
) -> None:
    """Grow stored alert ``row`` by one aggregated group of its identity."""
    row.count += group["count"]
    row.first_seen = min(row.first_seen, group["first_seen"])
    row.last_seen = max(row.last_seen, group["last_seen"])
    if verdict is Verdict.LIVE:
        row.verdict = Verdict.LIVE.value
    if _RANKS[group["severity"]] > _RANKS.get(row.severity, -1):
        row.severity = group["severity"]
        touched.add(row.created_at.date())  # its day's response roll-up by severity changed
    row.indicator_type = row.indicator_type or group["indicator.type"]
    row.indicator_value = row.indicator_value or group["indicator.value"]
    row.indicator_source = row.indicator_source or group["indicator.source"]
    row.indicator_threat = row.indicator_threat or group["indicator.threat"]
    room = evidence_limit - len(row.evidence or [])
    if room > 0:
        # A new list, so the ORM sees the JSON column change.
        row.evidence = [*(row.evidence or []), *group["evidence"][:room]]
    row.updated_at = moment


def _take_ids(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Return the ids the new alert ``rows`` will have, in order.

    They are taken before the rows go in, so each can go in with its group id, by one
    plain executemany (SQLite answers a RETURNING executemany one row at a time): from
    the id sequence on PostgreSQL; on SQLite, by inserting the first row now, which
    takes the database's one write lock, so no other writer can take the ids after it.
    """
    if session.get_bind().dialect.name == "postgresql":
        return sorted(
            session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence('alerts', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": len(rows)},
            )
        )
    first = session.scalar(insert(ALERTS_TABLE).returning(AlertRow.id), rows[0])
    assert first is not None
    return list(range(first, first + len(rows)))


def _insert(
    session: Session, rows: list[dict[str, Any]], ids: list[int], groups: dict[int, int]
) -> None:
    """Insert the new alert ``rows`` with their ``ids`` and group ids in bulk (SQLite's first
    row, already in from ``_take_ids``, is given its group)."""
    start = 0 if session.get_bind().dialect.name == "postgresql" else 1
    if start:
        session.execute(
            update(ALERTS_TABLE).where(ALERTS_TABLE.c.id == ids[0]).values(group_id=groups[ids[0]])
        )
    insert_rows(
        session.connection(),
        ALERTS_TABLE,
        [
            {**row, "id": i, "group_id": groups[i]}
            for i, row in zip(ids[start:], rows[start:], strict=True)
        ],
    )


def record_alerts(
    session: Session,
    candidates: pl.DataFrame,
    *,
    window: timedelta = timedelta(hours=1),
    retrospective: bool = False,
    evidence_limit: int = EVIDENCE_LIMIT,
    now: datetime | None = None,
    group_window: timedelta = timedelta(hours=1),
) -> AlertStats:
    """Turn candidate events into new or extended alerts; flush, do not commit.

    ``retrospective`` marks alerts found by a retro-hunt over archived events;
    they extend only retrospective alerts. Each new alert joins the alert group of
    its organisation, host and observable within ``group_window``.
    """
    if candidates.is_empty():
        return AlertStats()
    moment = as_utc(now or utcnow())
    groups = aggregate_candidates(
        candidates, window=window, evidence_limit=evidence_limit, now=moment
    )
    stored = _open_alerts(session, groups, window, retrospective)
    extended = 0
    fresh: list[dict[str, Any]] = []
    touched: set[date] = set()  # days of creation whose response figures changed
    seen: set[date] = set()  # days of last seen whose alerts, events or verdicts changed
    # One step per aggregated group (groups are far fewer than events).
    for group in groups.iter_rows(named=True):
        identity = tuple(group[c] for c in _IDENTITY)
        first, last = group["first_seen"], group["last_seen"]
        verdict = Verdict.BLOCKED if group["all_blocked"] else Verdict.LIVE
        # Groups of one batch never touch one another (aggregation split them on the
        # gap), so only stored alerts can be extended.
        row = _pick(stored[identity], first, last, window) if identity in stored else None
        if row is None:
            fresh.append(_new_alert(group, verdict, retrospective, moment))
            continue
        seen.add(as_utc(row.last_seen).date())  # the day it leaves, if it moves
        _extend(row, group, verdict, evidence_limit, moment, touched)
        seen.add(as_utc(row.last_seen).date())
        extended += 1
    if fresh:  # new alerts on the day of ``moment`` (a past day when a caller says so)
        touched.add(moment.date())
        seen.update(as_utc(r["last_seen"]).date() for r in fresh)
    rollup.touch_days(session, touched)
    rollup.touch_days(session, seen, rollup.SEEN_DAYS)
    session.flush()
    created = _take_ids(session, fresh) if fresh else []
    if created:  # grouped before they go in: each new alert is written once, with its group
        plan = plan_groups(
            session,
            fresh_frame(
                [
                    (
                        i,
                        None,
                        r["org_code"],
                        r["host"],
                        r["observable"],
                        r["first_seen"],
                        r["last_seen"],
                        event_keys(r["evidence"]),
                    )
                    for i, r in zip(created, fresh, strict=True)
                ]
            ),
            group_window,
            OPEN_STATES,
        )
        _insert(session, fresh, created, dict(plan.iter_rows()))
    return AlertStats(
        events=candidates.height, groups=groups.height, created=len(created), extended=extended
    )
