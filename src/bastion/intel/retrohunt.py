"""Retro-hunt: when indicators arrive, look for them in the archived events of the last N days.

The archive is searched only through ``boundary.archive.hunt`` (DuckDB over the
``events`` view), in two steps so the archive is scanned by column, not by event:

1. one query fetches only the events that *may* match: hashed ``IN`` lists of the
   listed values, of each event domain's parents at the depths listed, of the
   /8, /16 or /24 an IPv4 network starts with (``prefilter``); what SQL cannot
   narrow (URL patterns, IPv6 networks) is matched by the field's distinct values;
2. a ``MatchIndex`` of the new indicators alone then decides which event hit which
   indicator, and the verdict stage turns the hits into alert candidates.

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


def _in(expression: str, values: list[str]) -> str:
    return f"{expression} IN ({', '.join(_quote(v) for v in sorted(set(values)))})"


def _of(listings: pl.DataFrame, *kinds: IndicatorType) -> list[str]:
    values = listings.filter(pl.col("type").is_in([k.value for k in kinds]))["value"]
    return values.unique().to_list()


def _ip_conditions(listings: pl.DataFrame, column: str) -> tuple[list[str], bool]:
    """Conditions a row must meet to hold a listed address (a superset), and whether IPv6 CIDRs need more."""
    found = []
    exact = _of(listings, IndicatorType.IPV4, IndicatorType.IPV6)
    if exact:
        found.append(_in(f"lower({column})", exact))
    cidrs = pl.Series(_of(listings, IndicatorType.CIDR), dtype=pl.String)
    v4 = cidrs.filter(~cidrs.str.contains(":"))
    # An IPv4 network is found by the /8, /16 or /24 its addresses start with (hashed IN lists).
    parts = v4.str.split("/").list.first().str.split(".")
    prefix = v4.str.split("/").list.last().cast(pl.Int32)
    octets = (prefix // 8).clip(0, 3)
    by_octets: dict[int, list[str]] = {}
    for count, octet_list in zip(octets.to_list(), parts.to_list(), strict=True):
        by_octets.setdefault(count, []).append(".".join(octet_list[:count]))
    for count, starts in by_octets.items():
        if count == 0:  # wider than a /8: every IPv4 address may be in it
            found.append(f"{column} LIKE '%.%.%.%'")
            continue
        found.append(_in(f"array_to_string(string_split({column}, '.')[1:{count}], '.')", starts))
    return found, bool(cidrs.str.contains(":").any())


def _domain_conditions(listings: pl.DataFrame, column: str) -> list[str]:
    domains = pl.Series(_of(listings, IndicatorType.DOMAIN), dtype=pl.String)
    depths = domains.str.count_matches(".", literal=True) + 1
    labels = f"string_split(rtrim(lower({column}), '.'), '.')"
    return [
        _in(f"array_to_string({labels}[-{depth}:], '.')", domains.filter(depths == depth).to_list())
        for depth in sorted(set(depths.to_list()))
    ]


def prefilter(listings: pl.DataFrame, columns: set[str]) -> tuple[list[str], list[str]]:
    """Return SQL conditions that every matching event meets, and the fields matched by value.

    The conditions may let through events that do not match (the index decides);
    they never keep out one that does. Fields with no such condition (URL
    patterns, IPv6 networks) are matched by their distinct values instead.
    """
    conditions: list[str] = []
    by_value: list[str] = []
    for field in ("source.ip", "destination.ip"):
        if field in columns:
            found, v6_networks = _ip_conditions(listings, _column(field))
            conditions += found
            if v6_networks:
                by_value.append(field)
    if _of(listings, IndicatorType.DOMAIN):
        for field in ("url.domain", "dns.question.name", "tls.server.name"):
            if field in columns:
                conditions += _domain_conditions(listings, _column(field))
    urls = _of(listings, IndicatorType.URL)
    if urls and "url.domain" in columns:
        hosts = pl.Series(urls).str.extract(
            r"^[a-z][a-z0-9+.-]*://(?:[^/@]*@)?(\[[^\]]*\]|[^/:?#]*)", 1
        )
        conditions.append(_in('lower("url.domain")', hosts.drop_nulls().to_list()))
    if urls and "url.full" in columns:
        conditions.append(_in('"url.full"', urls))
    if _of(listings, IndicatorType.URL_PATTERN) and "url.full" in columns:
        by_value.append("url.full")
    for kind in (IndicatorType.JA3, IndicatorType.JA4, IndicatorType.SHA256, IndicatorType.SHA1,
                 IndicatorType.MD5):  # fmt: skip
        values = _of(listings, kind)
        for field in FIELDS[kind]:
            if values and field in columns:
                conditions.append(_in(f"lower({_column(field)})", values))
    return conditions, by_value


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
        for first in range(0, len(values), _IN_CHUNK):
            conditions.append(_in(column, values[first : first + _IN_CHUNK]))
    if not conditions:
        return pl.DataFrame(), pl.DataFrame(), values_hit
    events = hunt(root, f"SELECT * FROM events WHERE {period} AND ({' OR '.join(conditions)})")
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
