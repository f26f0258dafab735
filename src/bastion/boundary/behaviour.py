"""Built-in behaviour checks that need no indicator: port scans, exfiltration, Log4Shell probes.

Each is a columnar aggregation over one batch that yields alert candidates (kind
"rule"), in the same shape as indicator hits, so the alert store aggregates both
alike. Thresholds apply per batch; sliding windows across batches are the job of
the Sigma correlation engine, which supersedes these checks rule by rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from bastion.core.events import CANDIDATE_SCHEMA, remote_address


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
        remote_address().alias("observable"),
    )


def _flagged(
    events: pl.DataFrame, where: pl.Expr, alerting: pl.Expr, *columns: str
) -> pl.DataFrame:
    """Return the events where ``where`` holds and then ``alerting`` (a group check) holds.

    Both run over the few ``columns`` they read: filtering the wide events (raw lines
    and all) would copy every column of most rows to keep almost none.
    """
    narrow = events.select(*columns).with_row_index("_at").filter(where)
    return events[narrow.filter(alerting).get_column("_at")]


def port_scans(events: pl.DataFrame, threshold: int) -> pl.DataFrame:
    """Events of one outside source probing many ports of one member host."""
    scanned = _flagged(
        events,
        pl.col("organization.id").is_not_null()
        & (pl.col("host.ip") == pl.col("destination.ip"))
        & pl.col("destination.port").is_not_null(),
        pl.col("destination.port").n_unique().over("source.ip", "host.ip") >= threshold,
        "organization.id",
        "host.ip",
        "source.ip",
        "destination.ip",
        "destination.port",
    )
    return _candidates(
        scanned,
        pl.concat_str(pl.lit("builtin:port-scan:"), pl.col("source.ip")),
        pl.concat_str(pl.lit("Port scan from "), pl.col("source.ip")),
        "medium",
    )


def exfiltration(events: pl.DataFrame, threshold: int) -> pl.DataFrame:
    """Events of one member host sending a large volume to one outside address."""
    heavy = _flagged(
        events,
        pl.col("organization.id").is_not_null()
        & (pl.col("host.ip") == pl.col("source.ip"))
        & pl.col("source.bytes").is_not_null(),
        pl.col("source.bytes").sum().over("host.ip", "destination.ip") >= threshold,
        "organization.id",
        "host.ip",
        "source.ip",
        "destination.ip",
        "source.bytes",
    )
    return _candidates(
        heavy,
        pl.concat_str(pl.lit("builtin:exfiltration:"), pl.col("destination.ip")),
        pl.concat_str(pl.lit("Large upload to "), pl.col("destination.ip")),
        "high",
    )


def log4shell_probes(events: pl.DataFrame) -> pl.DataFrame:
    """Requests carrying a JNDI lookup (CVE-2021-44228) in the URL or the User-Agent."""

    def lookup(column: str, regex: bool) -> pl.Expr:
        text = pl.col(column)
        found = text.str.contains(LOG4SHELL) if regex else text.str.contains("${", literal=True)
        return found.fill_null(value=False)

    # Every probe holds "${": a literal search (memchr) leaves the regex a handful of rows.
    member = pl.col("organization.id").is_not_null()
    maybe = events.filter(
        member & (lookup("url.full", False) | lookup("user_agent.original", False))
    )
    probes = maybe.filter(lookup("url.full", True) | lookup("user_agent.original", True))
    return _candidates(
        probes,
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
