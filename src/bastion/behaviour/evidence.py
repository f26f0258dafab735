"""The evidence behind a result: its events read again, histograms, sample lines, a hunt query.

Only results that will alert are read again, one organisation's slice at a time,
so the raw lines of the whole archive are never loaded: the events of the pair
(for a DNS tunnel, the queries under the registered domain; for a fingerprint,
the handshakes carrying it) become the alert's candidates and the histograms
of their inter-arrival times and bytes sent.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import polars as pl

from bastion.behaviour.analyse import DNS_TUNNEL, RARE
from bastion.behaviour.dns import registered_domain
from bastion.behaviour.reading import EVIDENCE_COLUMNS, Slice, read_slice

SAMPLES = 5


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def hunt_sql(result: dict[str, Any], day: date) -> str:
    """Return the SQL of a hunt around a result: the host's events with that destination."""
    dest = _quote(result["dest"])
    if result["analytic"] == DNS_TUNNEL:
        match = f'"dns.question.name" LIKE {_quote("%" + result["dest"])}'
    elif result["analytic"] == RARE:
        kind, _, value = result["dest"].partition(":")
        match = f'"tls.client.{kind}" = {_quote(value)}'
    else:
        match = (
            f'("tls.server.name" = {dest} OR "url.domain" = {dest} '
            f'OR "destination.ip" = {dest} OR "source.ip" = {dest})'
        )
    return (
        f"SELECT * FROM events\nWHERE day = '{day.isoformat()}' AND org = {_quote(result['org'])}"
        f'\n  AND "host.ip" = {_quote(result["host"])} AND {match}\n'
        'ORDER BY "@timestamp"\nLIMIT 500'
    )


def histogram(values: np.ndarray[Any, Any], bins: int) -> dict[str, list[float]]:
    """Return equal-width bin edges and counts of ``values`` (the top 1 % folded in the last)."""
    if values.size == 0:
        return {"edges": [], "counts": []}
    top = float(np.quantile(values, 0.99))
    low = float(values.min())
    high = top if top > low else low + 1.0
    counts, edges = np.histogram(np.clip(values, low, high), bins=bins, range=(low, high))
    return {"edges": [round(float(e), 3) for e in edges], "counts": [int(c) for c in counts]}


def _matching(events: pl.DataFrame, result: dict[str, Any]) -> pl.DataFrame:
    mine = events.filter(pl.col("host") == result["host"])
    if result["analytic"] == DNS_TUNNEL:
        qname = pl.col("qname")
        return mine.filter(qname.is_not_null() & (registered_domain(qname) == result["dest"]))
    if result["analytic"] == RARE:
        kind, _, value = result["dest"].partition(":")
        return mine.filter(pl.col(kind) == value)
    return mine.filter(pl.col("qname").is_null() & (pl.col("dest") == result["dest"]))


def gather(
    part: Slice, results: list[dict[str, Any]], bins: int
) -> list[tuple[dict[str, Any], pl.DataFrame]]:
    """Return, per result of ``part``'s organisation, its evidence and its events (in time order)."""
    hosts = sorted({r["host"] for r in results})
    events = read_slice(part, EVIDENCE_COLUMNS).filter(pl.col("host").is_in(hosts)).collect()
    found = []
    for result in results:  # one step per alerting result, never per event
        matched = _matching(events, result).sort("ts")
        stamps = matched["ts"].dt.epoch("us").to_numpy()
        intervals = np.diff(stamps) / 1e6
        sizes = matched["sent"].drop_nulls().to_numpy().astype(float)
        samples = matched.head(SAMPLES).select(
            pl.col("ts").dt.to_string("iso:strict").alias("timestamp"),
            pl.col("event.dataset").alias("dataset"),
            pl.col("log.file.path").alias("path"),
            pl.col("log.offset").alias("offset"),
            pl.col("event.original").str.slice(0, 2000).alias("raw"),
        )
        evidence = {
            "intervals": histogram(intervals, bins),
            "sizes": histogram(sizes, bins),
            "samples": samples.to_dicts(),
        }
        found.append((evidence, matched))
    return found
