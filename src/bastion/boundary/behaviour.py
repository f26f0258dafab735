"""Built-in behaviour checks that need no indicator: port scans, exfiltration, Log4Shell probes.

Each is a columnar aggregation over one batch that yields alert candidates (kind
"rule"), in the same shape as indicator hits, so the alert store aggregates both
alike. Thresholds apply per batch; sliding windows across batches are the job of
the Sigma correlation engine, which supersedes these checks rule by rule.

Each organisation's thresholds are the ``CheckThresholds`` of the detector's tuning
(``bastion rules set-threshold``): the events past the lowest value in force are
joined with the organisations' own values as a column, and kept where their group
reaches their organisation's, so the join meets the few candidate rows, not the batch.
"""

from __future__ import annotations

import polars as pl

from bastion.core.events import CANDIDATE_SCHEMA, remote_address
from bastion.detect import LIMIT_COLUMN, CheckThresholds, Limits

PORT_SCAN = "builtin:port-scan"
EXFILTRATION = "builtin:exfiltration"

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
    events: pl.DataFrame,
    where: pl.Expr,
    measure: pl.Expr,
    limits: Limits,
    *columns: str,
) -> pl.DataFrame:
    """Return the events where ``where`` holds and ``measure`` (a group's) reaches its limit.

    ``limits`` holds the national threshold and the organisations' own
    (``CheckThresholds.limits``). Everything runs over the few ``columns`` read:
    filtering the wide events (raw lines and all) would copy every column of most rows
    to keep almost none. Only the rows past the lowest threshold in force meet the join
    with the organisations' own values.
    """
    narrow = events.select(*columns).with_row_index("_at").filter(where)
    measured = narrow.select("_at", "organization.id", measure.alias("_measure"))
    over = measured.filter(pl.col("_measure") >= limits.lowest)
    if not limits.own.is_empty():
        over = over.join(limits.own, on="organization.id", how="left").filter(
            pl.col("_measure") >= pl.col(LIMIT_COLUMN).fill_null(limits.national)
        )
    return events[over.get_column("_at").sort()]


def port_scans(events: pl.DataFrame, thresholds: CheckThresholds) -> pl.DataFrame:
    """Events of one outside source probing many ports of one member host."""
    scanned = _flagged(
        events,
        pl.col("organization.id").is_not_null()
        & (pl.col("host.ip") == pl.col("destination.ip"))
        & pl.col("destination.port").is_not_null(),
        pl.col("destination.port").n_unique().over("source.ip", "host.ip"),
        thresholds.limits(PORT_SCAN, "ports"),
        "organization.id",
        "host.ip",
        "source.ip",
        "destination.ip",
        "destination.port",
    )
    return _candidates(
        scanned,
        pl.concat_str(pl.lit(f"{PORT_SCAN}:"), pl.col("source.ip")),
        pl.concat_str(pl.lit("Port scan from "), pl.col("source.ip")),
        "medium",
    )


def exfiltration(events: pl.DataFrame, thresholds: CheckThresholds) -> pl.DataFrame:
    """Events of one member host sending a large volume to one outside address."""
    heavy = _flagged(
        events,
        pl.col("organization.id").is_not_null()
        & (pl.col("host.ip") == pl.col("source.ip"))
        & pl.col("source.bytes").is_not_null(),
        pl.col("source.bytes").sum().over("host.ip", "destination.ip"),
        thresholds.limits(EXFILTRATION, "bytes"),
        "organization.id",
        "host.ip",
        "source.ip",
        "destination.ip",
        "source.bytes",
    )
    return _candidates(
        heavy,
        pl.concat_str(pl.lit(f"{EXFILTRATION}:"), pl.col("destination.ip")),
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
    events: pl.DataFrame, thresholds: CheckThresholds = CheckThresholds()
) -> pl.DataFrame:
    """Run every built-in check over a batch at each organisation's thresholds; return candidates."""
    found = [
        port_scans(events, thresholds),
        exfiltration(events, thresholds),
        log4shell_probes(events),
    ]
    return pl.concat([f.cast(CANDIDATE_SCHEMA) for f in found])  # type: ignore[arg-type]
