"""Retro-hunt: when indicators arrive, look for them in the archived events of the last N days.

The archive is searched only through ``boundary.archive.hunt`` (DuckDB over the
``events`` view), in two steps so the archive is scanned by column, not by event:

1. for each event field the new indicators can match, the field's *distinct*
   values of the period are fetched and matched with a ``MatchIndex`` of the new
   indicators alone (CIDRs, parent domains and URL patterns included);
2. only the events holding a value that hit are fetched, matched again to learn
   which indicator each hit, and turned into alert candidates by the verdict stage.

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

from bastion.boundary.alerts import list_alerts, record_alerts
from bastion.boundary.archive import hunt
from bastion.boundary.verdict import verdict
from bastion.core.errors import InputError
from bastion.core.timeutil import as_utc
from bastion.intel.index import FIELDS, INDICATOR_SCHEMA, MatchIndex
from bastion.intel.indicator import IndicatorType
from bastion.intel.models import IndicatorRow, RetroHuntRow
from bastion.intel.service import listing_frame
from bastion.intel.sightings import record_sightings

DEFAULT_DAYS = 30
_IN_CHUNK = 5000  # values per IN (...) list in one hunt query


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


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _column(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _period(days: int, now: datetime) -> str:
    start = as_utc(now) - timedelta(days=days)
    return (
        f"day >= {_quote(start.strftime('%Y-%m-%d'))} AND day <> 'unknown' "
        f'AND "@timestamp" >= TIMESTAMPTZ {_quote(start.isoformat())}'
    )


def _fields(listings: pl.DataFrame) -> list[str]:
    kinds = set(listings["type"].unique().to_list())
    return list(dict.fromkeys(f for t in kinds for f in FIELDS[IndicatorType(t)]))


def hunt_matches(
    root: Path, listings: pl.DataFrame, *, days: int = DEFAULT_DAYS, now: datetime
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Return (events, matches, distinct values hit) of ``listings`` over the last ``days``."""
    index = MatchIndex.from_frame(listings.select(list(INDICATOR_SCHEMA)))
    period = _period(days, now)
    columns = set(hunt(root, "SELECT * FROM events LIMIT 0").columns)
    hit: dict[str, list[str]] = {}
    for field in _fields(listings):
        if field not in columns:
            continue
        column = _column(field)
        distinct = hunt(
            root, f"SELECT DISTINCT {column} FROM events WHERE {period} AND {column} IS NOT NULL"
        )
        if distinct.is_empty():
            continue
        found = index.match(distinct.select(pl.col(field).cast(pl.String)))
        values = distinct[field].cast(pl.String).gather(found["_row"]).unique()
        if len(values):
            hit[field] = values.to_list()
    if not hit:
        return pl.DataFrame(), pl.DataFrame(), 0
    parts = []
    for field, wanted in hit.items():
        for start in range(0, len(wanted), _IN_CHUNK):
            listed = ", ".join(_quote(v) for v in wanted[start : start + _IN_CHUNK])
            parts.append(
                hunt(
                    root, f"SELECT * FROM events WHERE {period} AND {_column(field)} IN ({listed})"
                )
            )
    events = pl.concat(parts, how="diagonal_relaxed").unique(maintain_order=True)
    return events, index.match(events), sum(len(v) for v in hit.values())


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
    where = None if since is None else IndicatorRow.updated_at > as_utc(since)
    listings = listing_frame(session, moment, where=where)
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
    candidates = verdict(events, matches).filter(pl.col("organization.id").is_not_null())
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
