"""Event search: an organisation's archived events by filters, never by free SQL.

The caller's ``Scope`` is bound into the query here, in the data-access layer: a
member's search reads only rows whose ``org`` is one of its organisations (the
partition column, so other organisations' files are not even opened), and a
route cannot forget it. The query runs in the hunt sandbox with its limits; the
filters are bound as parameters, never pasted into the SQL.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from bastion.boundary.sandbox import HuntCost, HuntPage, SandboxLimits, run_sandboxed
from bastion.core.errors import InputError
from bastion.core.scope import Scope
from bastion.core.timeutil import as_utc

# What a search shows of each event, in this order.
COLUMNS = (
    "@timestamp",
    "org",
    "event.dataset",
    "event.action",
    "source.ip",
    "source.port",
    "destination.ip",
    "destination.port",
    "network.transport",
    "url.domain",
    "url.full",
    "dns.question.name",
    "event.original",
)
_ADDRESSES = ("source.ip", "destination.ip", "host.ip", "source.nat.ip", "destination.nat.ip")
_DOMAINS = ("url.domain", "dns.question.name", "tls.server.name")


@dataclass(frozen=True)
class EventFilters:
    """What to search for; every filter given must hold (none: every event in scope).

    ``address`` matches any address column; ``domain`` the URL, DNS or TLS name or a
    name under it; ``url`` is a part of the full URL; ``action`` and ``dataset`` are
    exact (any case).
    """

    since: datetime | None = None
    until: datetime | None = None
    address: str | None = None
    domain: str | None = None
    url: str | None = None
    action: str | None = None
    dataset: str | None = None


def _quoted(column: str) -> str:
    return '"' + column + '"'


def _where(scope: Scope, filters: EventFilters) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    codes = scope.codes
    if codes is not None:  # bound first, whatever else is asked
        clauses.append(f"org IN ({', '.join('?' for _ in codes)})")
        params += codes
    if filters.since is not None:
        since = as_utc(filters.since)
        clauses += ["day >= ?", '"@timestamp" >= ?']
        params += [f"{since:%Y-%m-%d}", since]
    if filters.until is not None:
        until = as_utc(filters.until)
        clauses += ["day <= ?", '"@timestamp" < ?']
        params += [f"{until:%Y-%m-%d}", until]
    if filters.address:
        try:
            address = str(ipaddress.ip_address(filters.address.strip()))
        except ValueError:
            msg = f"{filters.address!r} is not an IP address"
            raise InputError(msg) from None
        clauses.append("(" + " OR ".join(f"{_quoted(c)} = ?" for c in _ADDRESSES) + ")")
        params += [address] * len(_ADDRESSES)
    if filters.domain:
        domain = filters.domain.strip().lower().rstrip(".")
        clauses.append(
            "("
            + " OR ".join(
                f"({_quoted(c)} = ? OR {_quoted(c)} LIKE ? ESCAPE '\\')" for c in _DOMAINS
            )
            + ")"
        )
        params += [domain, "%." + _like(domain)] * len(_DOMAINS)
    if filters.url:
        clauses.append("\"url.full\" LIKE ? ESCAPE '\\'")
        params.append("%" + _like(filters.url.strip()) + "%")
    if filters.action:
        clauses.append('lower("event.action") = ?')
        params.append(filters.action.strip().lower())
    if filters.dataset:
        clauses.append('lower("event.dataset") = ?')
        params.append(filters.dataset.strip().lower())
    return clauses, params


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_events(
    root: Path,
    scope: Scope,
    filters: EventFilters,
    *,
    limits: SandboxLimits,
    limit: int = 50,
    offset: int = 0,
) -> HuntPage:
    """Return one page of the events ``scope`` may see that match ``filters``, newest first."""
    if scope.codes == []:  # a caller of no organisation sees no event
        empty = pl.DataFrame(schema={c: pl.String() for c in COLUMNS})
        return HuntPage(empty, offset, more=False, cost=HuntCost(0, 0, 0.0))
    clauses, params = _where(scope, filters)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = (
        f"SELECT {', '.join(_quoted(c) for c in COLUMNS)} FROM events{where} "
        'ORDER BY "@timestamp" DESC NULLS LAST'
    )
    # The query is this module's, the caller's values bound: a kept database may run it.
    return run_sandboxed(
        root, sql, limits=limits, limit=limit, offset=offset, params=params, reuse=True
    )
