"""Service-level indicators from real users' traffic: the boundary's web and proxy logs.

``bastion.uptime`` measures a service by probing it; this measures it by the
requests the boundary's Parquet archive already holds: the access logs of a
service's own web servers (nginx, Apache) and of the proxies (Squid) that members'
users reach it through. For each of the service's hosts (its monitors' target
hosts) it counts the requests answered, those answered 5xx (the server failed),
and the success ratio 1 - 5xx/requests, per day and over the whole period; with
the service's SLO, also the share of the period's error budget the 5xx spent.

It stands in its own layer above ``uptime`` and ``boundary``, which are
independent of each other: it reads uptime's monitors and SLOs through
``bastion.uptime`` and the archive through ``bastion.boundary.hunting.Hunt``
(a read-only DuckDB ``events`` view over the committed files, each event once).
One columnar query per call: DuckDB prunes the ``day`` partitions, filters and
groups; no Python per event. Only events of organisations in the caller's scope
are counted.

Latency is not measured here: the archive's schema has no request duration
(nginx's and Apache's combined formats carry none, and Squid's elapsed time is
not kept), so percentiles would need that field added to the common event schema
and the parsers that can fill it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from bastion import uptime
from bastion.boundary.hunting import Hunt
from bastion.core.errors import InputError, NotFoundError
from bastion.core.scope import Scope
from bastion.core.timeutil import as_utc

__all__ = ["DAY_SCHEMA", "HostSli", "TrafficSli", "host_days", "service_sli"]

MAX_DAYS = 400
DAY_SCHEMA: dict[str, pl.DataType] = {
    "host": pl.String(),
    "day": pl.Date(),
    "requests": pl.Int64(),
    "errors": pl.Int64(),
}
# The server's name as logged (a virtual host, a proxied URL's host), else its address.
_HOST = 'lower(coalesce("url.domain", "destination.ip"))'
_QUERY = f"""
SELECT {_HOST} AS host, CAST("@timestamp" AS DATE) AS day, count(*) AS requests,
       count(*) FILTER (WHERE "http.response.status_code" >= 500) AS errors
FROM events
WHERE "http.response.status_code" BETWEEN 100 AND 599
  AND day >= $1 AND day <= $2
  AND "@timestamp" >= $3 AND "@timestamp" < $4
  AND list_contains($5, {_HOST})
  AND ($6 OR list_contains($7, org))
GROUP BY ALL
ORDER BY host, day
"""


def host_days(
    archive: Path, hosts: Sequence[str], start: datetime, end: datetime, scope: Scope
) -> pl.DataFrame:
    """Return requests and 5xx answers per host and UTC day in [start, end) (``DAY_SCHEMA``)."""
    start, end = as_utc(start), as_utc(end)
    wanted = sorted({h.strip().lower().rstrip(".") for h in hosts if h.strip()})
    codes = scope.codes
    if not wanted or end <= start or codes == [] or not archive.is_dir():
        return pl.DataFrame(schema=DAY_SCHEMA)
    # The day partitions bound the files read; the timestamps, the rows counted.
    params = [f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}", start, end, wanted, codes is None,
              codes or [""]]  # fmt: skip
    with Hunt(archive) as opened:
        found = opened.query(_QUERY, params=params)
    return found.select(pl.col(n).cast(t) for n, t in DAY_SCHEMA.items())


@dataclass(frozen=True)
class HostSli:
    host: str
    requests: int
    errors: int
    success_ratio: float | None  # None: no request in the period


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


def _host(host: str, requests: int, errors: int) -> HostSli:
    return HostSli(host, requests, errors, _ratio(requests, errors))


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
    counts = host_days(archive, hosts, start, end, scope)
    per_host = counts.group_by("host").agg(pl.col("requests", "errors").sum())
    totals = dict(zip(per_host["host"], zip(per_host["requests"], per_host["errors"], strict=True),
                      strict=True))  # fmt: skip
    daily = counts.group_by("day").agg(pl.col("requests", "errors").sum()).sort("day")
    requests, errors = int(counts["requests"].sum()), int(counts["errors"].sum())
    slos = [s for s in uptime.list_slos(session, scope) if s.org == owner and s.service == service]
    target = max((s.target for s in slos), default=None)
    spent = None
    if target is not None and requests:
        spent = round(errors / (requests * (1.0 - target)), 6)
    return TrafficSli(
        owner, service, start, end, requests, errors, _ratio(requests, errors), target, spent,
        tuple(_host(h, *(int(n) for n in totals.get(h, (0, 0)))) for h in hosts),
        tuple((d, int(r), int(e)) for d, r, e in daily.iter_rows()),
    )  # fmt: skip
