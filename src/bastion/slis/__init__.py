"""Service-level indicators from real users' traffic: the boundary's web and proxy logs.

``bastion.uptime`` measures a service by probing it; this measures it by the
requests the boundary's Parquet archive already holds: the access logs of a
service's own web servers (nginx, Apache) and of the proxies (Squid) that members'
users reach it through. For each of the service's hosts (its monitors' target
hosts) it counts the requests answered, those answered 5xx (the server failed),
and the success ratio 1 - 5xx/requests, per day and over the whole period; with
the service's SLO, also the share of the period's error budget the 5xx spent; and,
per host, the 50th, 95th and 99th percentile of the time requests took, from the
logs that record it (``event.duration``: Squid's elapsed time).

It stands in its own layer above ``uptime`` and ``boundary``, which are
independent of each other: it reads uptime's monitors and SLOs through
``bastion.uptime`` and the archive through ``bastion.boundary.hunting.Hunt``
(a read-only DuckDB ``events`` view over the committed files, each event once).
One columnar query per call: DuckDB prunes the ``day`` partitions, filters and
groups; no Python per event. Only events of organisations in the caller's scope
are counted.

nginx's and Apache's combined formats record no duration, so requests logged
only there count for the success ratio but not for latency (``timed`` says how
many requests the percentiles stand on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from bastion import uptime
from bastion.boundary.hunting import Hunt
from bastion.core.errors import InputError, NotFoundError
from bastion.core.scope import Scope
from bastion.core.timeutil import as_utc

__all__ = ["DAY_SCHEMA", "LATENCY_SCHEMA", "HostSli", "TrafficSli", "host_traffic", "service_sli"]

MAX_DAYS = 400
DAY_SCHEMA: dict[str, pl.DataType] = {
    "host": pl.String(),
    "day": pl.Date(),
    "requests": pl.Int64(),
    "errors": pl.Int64(),
}
LATENCY_SCHEMA: dict[str, pl.DataType] = {
    "host": pl.String(),
    "timed": pl.Int64(),  # requests whose log gives their duration
    "p50_ms": pl.Float64(),
    "p95_ms": pl.Float64(),
    "p99_ms": pl.Float64(),
}
# The server's name as logged (a virtual host, a proxied URL's host), else its address.
_HOST = 'lower(coalesce("url.domain", "destination.ip"))'
# The day partitions bound the files read; the timestamps, the rows counted.
_WHERE = f"""
WHERE "http.response.status_code" BETWEEN 100 AND 599
  AND day >= $1 AND day <= $2
  AND "@timestamp" >= $3 AND "@timestamp" < $4
  AND list_contains($5, {_HOST})
  AND ($6 OR list_contains($7, org))
"""
_DAYS = f"""
SELECT {_HOST} AS host, CAST("@timestamp" AS DATE) AS day, count(*) AS requests,
       count(*) FILTER (WHERE "http.response.status_code" >= 500) AS errors
FROM events {_WHERE}
GROUP BY ALL ORDER BY host, day
"""
_MS = 1e6  # event.duration is in nanoseconds
_LATENCY = f"""
SELECT {_HOST} AS host, count(*) AS timed,
       quantile_cont("event.duration", 0.5) / {_MS} AS p50_ms,
       quantile_cont("event.duration", 0.95) / {_MS} AS p95_ms,
       quantile_cont("event.duration", 0.99) / {_MS} AS p99_ms
FROM events {_WHERE} AND "event.duration" IS NOT NULL
GROUP BY ALL ORDER BY host
"""


def host_traffic(
    archive: Path, hosts: Sequence[str], start: datetime, end: datetime, scope: Scope
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return requests and 5xx answers per host and UTC day in [start, end) (``DAY_SCHEMA``),
    and per host the latency percentiles of the requests whose logs time them
    (``LATENCY_SCHEMA``)."""
    start, end = as_utc(start), as_utc(end)
    wanted = sorted({h.strip().lower().rstrip(".") for h in hosts if h.strip()})
    codes = scope.codes
    empty = pl.DataFrame(schema=DAY_SCHEMA), pl.DataFrame(schema=LATENCY_SCHEMA)
    if not wanted or end <= start or codes == [] or not archive.is_dir():
        return empty
    params = [f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}", start, end, wanted, codes is None,
              codes or [""]]  # fmt: skip
    with Hunt(archive) as opened:
        days = opened.query(_DAYS, params=params)
        latency = opened.query(_LATENCY, params=params)
    return (
        days.select(pl.col(n).cast(t) for n, t in DAY_SCHEMA.items()),
        latency.select(pl.col(n).cast(t) for n, t in LATENCY_SCHEMA.items()),
    )


@dataclass(frozen=True)
class HostSli:
    host: str
    requests: int
    errors: int
    success_ratio: float | None  # None: no request in the period
    timed: int = 0  # requests whose logs give their duration (Squid's do; nginx's combined not)
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None


@dataclass(frozen=True)
class TrafficSli:
    """A service's success ratio as its users met it, over ``days`` days to ``end``."""

    org: str
    service: str
    start: datetime
    end: datetime
    requests: int
    errors: int
    success_ratio: float | None
    target: float | None  # the service's SLO, if it has one
    budget_spent: float | None  # share of the period's error budget the 5xx answers spent
    hosts: tuple[HostSli, ...]
    days: tuple[tuple[date, int, int], ...]  # day, requests, 5xx: the whole service per day


def _ratio(requests: int, errors: int) -> float | None:
    return None if requests == 0 else 1.0 - errors / requests


def _host(host: str, counts: tuple[int, int], latency: dict[str, Any] | None) -> HostSli:
    requests, errors = counts
    found = latency or {}
    return HostSli(
        host, requests, errors, _ratio(requests, errors), int(found.get("timed", 0)),
        found.get("p50_ms"), found.get("p95_ms"), found.get("p99_ms"),
    )  # fmt: skip


def service_sli(
    session: Session,
    archive: Path,
    service: str,
    scope: Scope,
    now: datetime,
    *,
    org: str | None = None,
    days: int = 30,
) -> TrafficSli:
    """Return a service's traffic SLI over the last ``days`` days (404 outside ``scope``)."""
    if not 1 <= days <= MAX_DAYS:
        msg = f"the period is 1-{MAX_DAYS} days; not {days}"
        raise InputError(msg)
    monitors = uptime.list_monitors(session, scope, service=service, org=org)
    if not monitors:
        msg = f"no service {service!r}"
        raise NotFoundError(msg)
    owner = monitors[0].org
    hosts = sorted({uptime.host_of(m.target).lower() for m in monitors if m.org == owner} - {""})
    end = as_utc(now)
    start = end - timedelta(days=days)
    counts, latency = host_traffic(archive, hosts, start, end, scope)
    timed = {str(r["host"]): r for r in latency.iter_rows(named=True)}
    per_host = counts.group_by("host").agg(pl.col("requests", "errors").sum())
    totals = {str(h): (int(r), int(e)) for h, r, e in per_host.iter_rows()}
    daily = counts.group_by("day").agg(pl.col("requests", "errors").sum()).sort("day")
    requests, errors = int(counts["requests"].sum()), int(counts["errors"].sum())
    slos = [s for s in uptime.list_slos(session, scope) if s.org == owner and s.service == service]
    target = max((s.target for s in slos), default=None)
    spent = None
    if target is not None and requests:
        spent = round(errors / (requests * (1.0 - target)), 6)
    return TrafficSli(
        owner, service, start, end, requests, errors, _ratio(requests, errors), target, spent,
        tuple(_host(h, totals.get(h, (0, 0)), timed.get(h)) for h in hosts),
        tuple((d, int(r), int(e)) for d, r, e in daily.iter_rows()),
    )  # fmt: skip
