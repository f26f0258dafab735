"""Retro-hunt: when indicators arrive, look for them in the archived events of the last N days.

The archive is searched only through ``boundary.archive.hunt`` (DuckDB over the
``events`` view), by column rather than by event:

1. what a plain comparison cannot find (networks, parent domains, URL patterns) is
   matched over the *distinct* values of the fields concerned, with a
   ``MatchIndex`` of the new indicators alone;
2. one query then fetches the events holding a listed exact value or a value that
   hit (``IN`` lists on raw columns, which DuckDB applies inside the scan);
3. the same index decides which event hit which indicator, and the verdict stage
   turns the hits into alert candidates.

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


def _matched_fields() -> set[str]:
    return {f for kind in IndicatorType for f in FIELDS[kind]}


def _in(column: str, values: list[str]) -> str:
    """``column IN (…)`` over a raw column: DuckDB filters that in the scan itself."""
    return f"{column} IN ({', '.join(_quote(v) for v in sorted(set(values)))})"


def _of(listings: pl.DataFrame, *kinds: IndicatorType) -> list[str]:
    values = listings.filter(pl.col("type").is_in([k.value for k in kinds]))["value"]
    return values.unique().to_list()


def prefilter(listings: pl.DataFrame, columns: set[str]) -> tuple[list[str], list[str]]:
    """Return SQL conditions on raw columns that every matching event meets, and the fields
    to match by their distinct values first.

    Exact values (addresses, URLs, fingerprints, hashes) are looked for as they are
    listed (hashes in either case); a URL also by its host in ``url.domain``. What a
    plain comparison cannot find (networks, parent domains, URL patterns) is matched
    over the field's distinct values, and the values that hit are then looked for.
    """
    conditions: list[str] = []
    by_value: list[str] = []
    present = [
        f for f in dict.fromkeys(f for k in IndicatorType for f in FIELDS[k]) if f in columns
    ]

    def add(field: str, values: list[str]) -> None:
        if values and field in present:
            conditions.append(_in(_column(field), values))

    networks = bool(_of(listings, IndicatorType.CIDR))
    for field in ("source.ip", "destination.ip"):
        if networks and field in present:
            by_value.append(field)
        else:
            add(field, _of(listings, IndicatorType.IPV4, IndicatorType.IPV6))
    if _of(listings, IndicatorType.DOMAIN):
        by_value += [
            f for f in ("url.domain", "dns.question.name", "tls.server.name") if f in present
        ]
    urls = _of(listings, IndicatorType.URL)
    if urls:
        hosts = pl.Series(urls, dtype=pl.String).str.extract(
            r"^[a-z][a-z0-9+.-]*://(?:[^/@]*@)?(\[[^\]]*\]|[^/:?#]*)", 1
        )
        add("url.domain", hosts.drop_nulls().to_list())
        add("url.full", urls)
    if _of(listings, IndicatorType.URL_PATTERN) and "url.full" in present:
        by_value.append("url.full")
    for kind in (IndicatorType.JA3, IndicatorType.JA4, IndicatorType.SHA256, IndicatorType.SHA1,
                 IndicatorType.MD5):  # fmt: skip
        values = _of(listings, kind)
        for field in FIELDS[kind]:
            add(field, values + [v.upper() for v in values])
    return conditions, list(dict.fromkeys(by_value))


def hunt_matches(
    root: Path, listings: pl.DataFrame, *, days: int = DEFAULT_DAYS, now: datetime
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Return (events, matches, distinct values hit by value) of ``listings`` over the last ``days``.

    One query fetches the events that may match (``prefilter``); fields that need
    it are matched by their distinct values first. The index of ``listings``
    then decides exactly which event hit which indicator.
    """
    index = MatchIndex.from_frame(listings.select(list(INDICATOR_SCHEMA)))
    period = _period(days, now)
    columns = set(hunt(root, "SELECT * FROM events LIMIT 0").columns)
    conditions, by_value = prefilter(listings, columns)
    values_hit = 0
    for field in by_value:
        column = _column(field)
        distinct = hunt(
            root, f"SELECT DISTINCT {column} FROM events WHERE {period} AND {column} IS NOT NULL"
        )
        found = index.match(distinct.select(pl.col(field).cast(pl.String)))
        values = distinct[field].cast(pl.String).gather(found["_row"]).unique().to_list()
        values_hit += len(values)
        if values:
            conditions.append(_in(column, values))
    if not conditions:
        return pl.DataFrame(), pl.DataFrame(), values_hit
    where = f"{period} AND ({' OR '.join(conditions)})"
    # Only the columns matching and the alerts need: a scan reads whole columns.
    wanted = [c for c in dict.fromkeys([*_EVIDENCE, *sorted(_matched_fields())]) if c in columns]
    events = hunt(root, f"SELECT {', '.join(map(_column, wanted))} FROM events WHERE {where}")
    return events, index.match(events), values_hit


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
