"""Built-in behaviour checks that need no indicator: port scans, exfiltration, Log4Shell probes.

Each is a columnar aggregation over one batch that yields alert candidates (kind
"rule"), in the same shape as indicator hits, so the alert store aggregates both
alike. Thresholds apply per batch; sliding windows across batches are the job of
the Sigma correlation engine, which supersedes these checks rule by rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from bastion.boundary.alerts import CANDIDATE_SCHEMA


@dataclass(frozen=True)
class BehaviourThresholds:
    scan_ports: int = 50  # distinct destination ports of one member host from one source
    exfiltration_bytes: int = 1 << 30  # bytes one member host sends to one outside address


LOG4SHELL = r"(?i)\$\{(jndi|\$\{|lower:|upper:|env:|::-j)"


def _candidates(events: pl.DataFrame, key: pl.Expr, title: pl.Expr, severity: str) -> pl.DataFrame:
    threat = pl.lit(None, pl.String)
    return events.select(
        pl.col("organization.id"),
        pl.col("host.ip"),
        pl.col("@timestamp"),
        pl.lit("rule").alias("kind"),
        key.alias("key"),
        title.alias("title"),
        pl.lit(severity).alias("severity"),
        (pl.col("event.type") == "denied").fill_null(value=False).alias("blocked"),
        threat.alias("indicator.type"),
        threat.alias("indicator.value"),
        pl.lit("bastion").alias("indicator.source"),
        threat.alias("indicator.threat"),
        pl.col("event.original"),
        pl.col("log.file.path"),
        pl.col("log.offset"),
        pl.col("event.dataset"),
    )


def _rows(events: pl.DataFrame, flagged: pl.Expr, *columns: str) -> pl.Series:
    """Return the row numbers where ``flagged`` holds, computed over ``columns`` alone.

    The checks group a few columns of every event; selecting just those first spares
    copying the wide rows (raw lines included) that almost never alert.
    """
    narrow = events.select(*columns).with_row_index("_at")
    return narrow.filter(flagged).get_column("_at")


def port_scans(events: pl.DataFrame, threshold: int) -> pl.DataFrame:
    """Events of one outside source probing many ports of one member host."""
    inbound = (
        pl.col("organization.id").is_not_null()
        & (pl.col("host.ip") == pl.col("destination.ip"))
        & pl.col("destination.port").is_not_null()
    )
    ports = pl.col("destination.port").filter(inbound).n_unique()
    rows = _rows(
        events,
        inbound & (ports.over("source.ip", "host.ip") >= threshold),
        "organization.id",
        "host.ip",
        "source.ip",
        "destination.ip",
        "destination.port",
    )
    return _candidates(
        events[rows],
        pl.concat_str(pl.lit("builtin:port-scan:"), pl.col("source.ip")),
        pl.concat_str(pl.lit("Port scan from "), pl.col("source.ip")),
        "medium",
    )


def exfiltration(events: pl.DataFrame, threshold: int) -> pl.DataFrame:
    """Events of one member host sending a large volume to one outside address."""
    outbound = (
        pl.col("organization.id").is_not_null()
        & (pl.col("host.ip") == pl.col("source.ip"))
        & pl.col("source.bytes").is_not_null()
    )
    sent = pl.col("source.bytes").filter(outbound).sum()
    rows = _rows(
        events,
        outbound & (sent.over("host.ip", "destination.ip") >= threshold),
        "organization.id",
        "host.ip",
        "source.ip",
        "destination.ip",
        "source.bytes",
    )
    return _candidates(
        events[rows],
        pl.concat_str(pl.lit("builtin:exfiltration:"), pl.col("destination.ip")),
        pl.concat_str(pl.lit("Large upload to "), pl.col("destination.ip")),
        "high",
    )


def log4shell_probes(events: pl.DataFrame) -> pl.DataFrame:
    """Requests carrying a JNDI lookup (CVE-2021-44228) in the URL or the User-Agent."""
    probe = pl.col("organization.id").is_not_null() & (
        pl.col("url.full").str.contains(LOG4SHELL).fill_null(value=False)
        | pl.col("user_agent.original").str.contains(LOG4SHELL).fill_null(value=False)
    )
    rows = _rows(events, probe, "organization.id", "url.full", "user_agent.original")
    return _candidates(
        events[rows],
        pl.lit("builtin:log4shell-probe"),
        pl.lit("Log4Shell (CVE-2021-44228) exploit attempt"),
        "high",
    )


def behaviour(
    events: pl.DataFrame, thresholds: BehaviourThresholds = BehaviourThresholds()
) -> pl.DataFrame:
    """Run every built-in check over a batch; return their alert candidates."""
    found = [
        port_scans(events, thresholds.scan_ports),
        exfiltration(events, thresholds.exfiltration_bytes),
        log4shell_probes(events),
    ]
    return pl.concat([f.cast(CANDIDATE_SCHEMA) for f in found])  # type: ignore[arg-type]
