"""Retro-hunt: when indicators arrive, look for them in the archived events of the last N days.

The archive is searched only through ``boundary.hunting.Hunt``, by column rather
than by event:

1. what no test on a raw value can find (URL patterns, matched on normalised
   URLs) is matched over the *distinct* values of the fields concerned (a DuckDB
   query), with a ``MatchIndex`` of the new indicators alone; most hunts skip this;
2. one read of the matched columns, in batches of files (``Hunt.scan``), keeps the
   events that may match: the ``prefilter`` sieve on raw columns (exact values,
   networks by the text of their addresses, domains by their last characters, the
   values that hit in 1.), cheap per row;
3. the same index decides which event hit which indicator; only the events that
   did are read whole (``Hunt.rows``), and the verdict stage turns the hits into
   alert candidates.

Each (organisation, indicator) gives exactly one alert, marked retrospective,
spanning its first to last past event; a pair that already has an alert of that
indicator in the period (live or retrospective) gets none, so running a
retro-hunt twice raises nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.alerts import list_alerts, record_alerts
from bastion.boundary.hunting import FILE, ROW, Hunt
from bastion.boundary.models import RetroHuntRow
from bastion.boundary.verdict import indicator_candidates
from bastion.core.errors import InputError
from bastion.core.events import ARCHIVE_SCHEMA
from bastion.core.timeutil import as_utc
from bastion.intel import (
    FIELDS,
    INDICATOR_SCHEMA,
    IndicatorType,
    MatchIndex,
    listing_frame,
    prefilter,
    record_sightings,
)

DEFAULT_DAYS = 30
# What DuckDB may hold while a retro-hunt runs (the distinct URLs when URL patterns are
# hunted, the footers of every file): it keeps a hunt within the 2 GB it is allowed.
HUNT_MEMORY = "1GB"
# Distinct values are matched this many at a time.
MATCH_SLICE = 1 << 19
# What the verdict stage and the alert evidence read of a matched event, besides its fields.
_EVIDENCE = (
    "@timestamp",
    "organization.id",
    "host.ip",
    "event.type",
    "event.dataset",
    "event.original",
    "log.file.path",
    "log.offset",
)


def _quote(text: str) -> str:
    """Return ``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _column(name: str) -> str:
    """Return ``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class RetroHuntReport:
    """What one retro-hunt did."""

    since: datetime | None  # indicators changed after this (None: every active one)
    days: int
    indicators: int
    values_hit: int  # distinct event values that matched
    events: int  # past events that matched
    alerts: int  # retrospective alerts raised
    already_alerted: int  # (organisation, indicator) pairs skipped, alerted before


def _first_day(start: datetime) -> str:
    """Return the condition on ``day`` of a period starting at ``start`` (costs nothing)."""
    return f"day >= {_quote(start.strftime('%Y-%m-%d'))} AND day <> 'unknown'"


def _matched_fields() -> set[str]:
    return {f for kind in IndicatorType for f in FIELDS[kind]}


def _values_hit(events: pl.DataFrame, matches: pl.DataFrame) -> int:
    """Count the distinct (field, value) pairs of ``events`` that hit an indicator."""
    pairs = [
        events[field].cast(pl.String).gather(rows["_row"]).unique().len()
        for (field,), rows in matches.group_by("match.field")
    ]
    return sum(pairs)


def _hit_values(
    hunt: Hunt, index: MatchIndex, fields: list[str], days: str
) -> dict[str, list[str]]:
    """Return, for each of ``fields``, its distinct values in the period that hit ``index``.

    The period is narrowed by day only, which costs nothing.
    """
    found: dict[str, list[str]] = {}
    for field in fields:
        distinct = (
            f"SELECT DISTINCT {_column(field)} AS value FROM events "
            f"WHERE {days} AND {_column(field)} IS NOT NULL"
        )
        values = hunt.query(distinct)["value"].cast(pl.String)
        hit = [
            value
            for start in range(0, len(values), MATCH_SLICE)
            for value in _hits(index, values.slice(start, MATCH_SLICE), field)
        ]
        if hit:
            found[field] = hit
    return found


def _hits(index: MatchIndex, values: pl.Series, field: str) -> list[str]:
    """Return the distinct ``values`` (of ``field``) that hit ``index``."""
    return values.gather(index.match(values.to_frame(field))["_row"]).unique().to_list()


def hunt_matches(
    root: Path, listings: pl.DataFrame, *, days: int = DEFAULT_DAYS, now: datetime
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Return (events, matches, distinct values hit) of ``listings`` over the last ``days``.

    One read of the matched columns keeps the events that may match (``prefilter``);
    fields that need it are matched by their distinct values first. The index of
    ``listings`` then decides exactly which event hit which indicator, and only the
    events that did are read whole (``events`` holds those).
    """
    index = MatchIndex.from_frame(listings.select(list(INDICATOR_SCHEMA)))
    start = as_utc(now) - timedelta(days=days)
    with Hunt(root, memory_limit=HUNT_MEMORY) as hunt:
        # The scan reads a column some files lack as null: no need to ask DuckDB which exist.
        columns = set(ARCHIVE_SCHEMA)
        sieve, by_value = prefilter(listings, columns)
        for name, values in _hit_values(hunt, index, by_value, _first_day(start)).items():
            sieve = sieve.with_values(name, values)
        if not sieve.tests:
            return pl.DataFrame(), pl.DataFrame(), 0
        # The scan reads the matched columns only; the events that hit are then read whole.
        matched = [c for c in sorted(_matched_fields()) if c in columns]
        found = hunt.scan(matched, sieve.passes, start)
        hits = index.match(found)
        rows = hits["_row"].unique().sort()
        evidence = [c for c in _EVIDENCE if c in columns]
        read = hunt.rows(found.select(FILE, ROW).gather(rows), evidence)
    events = found.drop(FILE, ROW).gather(rows).hstack(read.select(evidence))
    # Renumber the hits by the events kept: only those that hit.
    renumber = pl.DataFrame({"_row": rows, "_kept": pl.int_range(len(rows), eager=True)})
    matches = (
        hits.join(renumber, on="_row", maintain_order="left")
        .with_columns(pl.col("_kept").cast(pl.Int64).alias("_row"))
        .drop("_kept")
    )
    return events, matches, _values_hit(events, matches)


def retrohunt(
    session: Session,
    root: Path,
    *,
    days: int = DEFAULT_DAYS,
    now: datetime,
    since: datetime | None = None,
    everything: bool = False,
) -> RetroHuntReport:
    """Hunt the indicators changed since the last retro-hunt (or ``since``, or all of them).

    Raise retrospective alerts (one per organisation and indicator, none where one
    exists already) and record the past matches as sightings; record the run.
    """
    if days < 1:
        msg = f"--days must be 1 or more, not {days}"
        raise InputError(msg)
    moment = as_utc(now)
    if since is None and not everything:
        since = session.scalar(select(RetroHuntRow.started_at).order_by(RetroHuntRow.id.desc()))
    listings = listing_frame(session, moment, changed_since=since)
    report = RetroHuntReport(since, days, listings.height, 0, 0, 0, 0)
    if listings.height:
        report = _raise(session, root, listings, report, moment)
    session.add(
        RetroHuntRow(
            started_at=moment,
            since=since,
            days=days,
            indicators=report.indicators,
            events=report.events,
            alerts=report.alerts,
        )
    )
    session.flush()
    return report


def _raise(
    session: Session, root: Path, listings: pl.DataFrame, report: RetroHuntReport, now: datetime
) -> RetroHuntReport:
    events, matches, values_hit = hunt_matches(root, listings, days=report.days, now=now)
    if matches.is_empty():
        return RetroHuntReport(report.since, report.days, report.indicators, values_hit, 0, 0, 0)
    candidates = indicator_candidates(events, matches).filter(
        pl.col("organization.id").is_not_null()
    )
    start = now - timedelta(days=report.days)
    known, _ = list_alerts(session, since=start)
    alerted = pl.DataFrame(
        [(a.org, a.key) for a in known if a.kind.value == "indicator"],
        schema={"organization.id": pl.String, "key": pl.String},
        orient="row",
    ).unique()
    pairs = candidates.select("organization.id", "key").unique()
    skipped = pairs.join(alerted, on=["organization.id", "key"], how="semi").height
    fresh = candidates.join(alerted, on=["organization.id", "key"], how="anti")
    # One alert per organisation and indicator, whatever host and however spread in time.
    fresh = fresh.with_columns(pl.lit(None, pl.String).alias("host.ip"))
    stats = record_alerts(
        session, fresh, window=timedelta(days=report.days + 1), retrospective=True, now=now
    )
    record_sightings(session, fresh, now=now)
    return RetroHuntReport(
        report.since,
        report.days,
        report.indicators,
        values_hit,
        fresh.height,
        stats.created,
        skipped,
    )
