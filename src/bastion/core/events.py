"""The common event schema: ECS field names, flat, as Arrow/Polars column names.

Every parser returns events in this schema (columns it cannot fill stay null);
every later stage reads and extends it. ``conform`` is the one place that
adds missing columns and fixes types, so parsers only build what they know.

Every producer of alerts (the verdict stage, detection rules, behaviour checks)
hands them over as *candidates* in ``CANDIDATE_SCHEMA``, one row per event, with
an ``AlertKind`` saying what raised it.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache

import polars as pl

TIMESTAMP = pl.Datetime("us", "UTC")

# The columns a parser fills, in archive order.
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "@timestamp": TIMESTAMP,
    "event.dataset": pl.String(),  # e.g. zeek.dns, panos.traffic, fortigate.utm, squid.access
    "event.action": pl.String(),  # the device's own word for what it did, lower-case
    "event.type": pl.String(),  # "allowed" or "denied" when the device says; null otherwise
    "observer.vendor": pl.String(),
    "observer.product": pl.String(),
    "observer.name": pl.String(),  # the reporting device (syslog host name or log field)
    "source.ip": pl.String(),
    "source.port": pl.Int32(),
    "source.bytes": pl.Int64(),
    "destination.ip": pl.String(),
    "destination.port": pl.Int32(),
    "destination.bytes": pl.Int64(),
    "network.transport": pl.String(),  # tcp, udp, icmp … lower-case
    "network.protocol": pl.String(),  # application protocol: http, dns, ssl …
    "network.bytes": pl.Int64(),
    "url.full": pl.String(),
    "url.domain": pl.String(),  # lower-case, no trailing dot
    "url.path": pl.String(),
    "http.request.method": pl.String(),  # upper-case
    "http.response.status_code": pl.Int32(),
    "user_agent.original": pl.String(),
    "dns.question.name": pl.String(),  # lower-case, no trailing dot
    "dns.question.type": pl.String(),  # A, AAAA, TXT …
    "dns.response_code": pl.String(),  # NOERROR, NXDOMAIN …
    "dns.answers": pl.String(),  # every answer, comma-separated, as Zeek writes them
    "dns.rejected": pl.Boolean(),  # the server refused the query (Zeek's ``rejected``)
    "dns.z": pl.Int8(),  # the header's reserved Z bits (Zeek's ``Z``), 0 in a normal query
    "http.request.referrer": pl.String(),  # the Referer header, as sent
    "tls.server.name": pl.String(),  # lower-case SNI
    "tls.client.ja3": pl.String(),  # lower-case hex md5
    "tls.client.ja4": pl.String(),
    "file.hash.sha256": pl.String(),  # lower-case hex
    "rule.name": pl.String(),  # the firewall policy (rule) that matched, as ECS says
    "event.category": pl.String(),  # ECS category when it is not network traffic: authentication …
    "event.outcome": pl.String(),  # success / failure, for authentication events
    "source.nat.ip": pl.String(),  # the source address after translation
    "source.nat.port": pl.Int32(),
    "destination.nat.ip": pl.String(),  # the destination address after translation
    "destination.nat.port": pl.Int32(),
    "user.name": pl.String(),  # the source user, without its domain
    "user.domain": pl.String(),
    "destination.user.name": pl.String(),
    "threat.name": pl.String(),  # IPS/AV/spyware signature name (PAN-OS THREAT, FortiGate UTM)
    "threat.id": pl.String(),
    "threat.category": pl.String(),
    "threat.severity": pl.String(),  # the device's severity word, lower-case
    "url.category": pl.String(),  # the device's URL category
    "network.application": pl.String(),  # the device's application name, lower-case
    "network.application_risk": pl.String(),  # the device's risk word or number for it
    "event.duration": pl.Int64(),  # nanoseconds the event took (ECS): a request's elapsed time
    "event.original": pl.String(),  # the raw line, for evidence and keyword searches
}

# Columns the pipeline adds after parsing.
PIPELINE_SCHEMA: dict[str, pl.DataType] = {
    "log.file.path": pl.String(),  # where the event came from
    "log.offset": pl.Int64(),  # byte offset of its line in that source
    "organization.id": pl.String(),  # owning organisation's code (attribute stage)
    "host.ip": pl.String(),  # the member's own address in the event (attribute stage)
}

ARCHIVE_SCHEMA: dict[str, pl.DataType] = {**EVENT_SCHEMA, **PIPELINE_SCHEMA}

# Parsers return this column too: the index of the input line each event came from.
LINE_COLUMN = "_line"

REJECT_SCHEMA: dict[str, pl.DataType] = {
    LINE_COLUMN: pl.Int64(),  # index of the rejected line in the parser's input
    "reason": pl.String(),  # why it was rejected, for a person to read
}

# Alert candidate columns: one row per event that hit an indicator or a rule.
CANDIDATE_SCHEMA: dict[str, pl.DataType] = {
    "organization.id": pl.String(),
    "host.ip": pl.String(),
    "@timestamp": TIMESTAMP,
    "kind": pl.String(),
    "key": pl.String(),
    "title": pl.String(),
    "severity": pl.String(),
    "blocked": pl.Boolean(),
    "indicator.type": pl.String(),
    "indicator.value": pl.String(),
    "indicator.source": pl.String(),
    "indicator.threat": pl.String(),
    "event.original": pl.String(),
    "log.file.path": pl.String(),
    "log.offset": pl.Int64(),
    "event.dataset": pl.String(),
    # what the alert is about beyond the member host (the remote address, the indicator's
    # value): alerts of one organisation, host and observable close in time form one group
    "observable": pl.String(),
}


def remote_address() -> pl.Expr:
    """The event's other party as seen from the member host: source or destination address."""
    return (
        pl.when(pl.col("host.ip") == pl.col("destination.ip"))
        .then(pl.col("source.ip"))
        .otherwise(pl.col("destination.ip"))
    )


class AlertKind(StrEnum):
    """What raised an alert."""

    INDICATOR = "indicator"  # a threat-intelligence indicator matched
    RULE = "rule"  # a detection rule fired
    EXTERNAL = "external"  # an outside source reported it (Microsoft Defender, a webhook)
    BEHAVIOUR = "behaviour"  # behavioural hunting over the archive (beacons, tunnels …)


@cache
def _conform_columns(
    schema: tuple[tuple[str, pl.DataType], ...],
) -> tuple[dict[str, pl.Expr], dict[str, pl.Expr]]:
    """Return, per column of ``schema``, its cast and its null: built once, not per batch."""
    cast = {name: pl.col(name).cast(dtype).alias(name) for name, dtype in schema}
    null = {name: pl.lit(None, dtype).alias(name) for name, dtype in schema}
    return cast, null


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType] = EVENT_SCHEMA) -> pl.DataFrame:
    """Return ``frame`` with exactly ``schema``'s columns (plus ``_line`` if present), typed.

    Missing columns become null; extra columns other than ``_line`` are dropped.
    """
    have = set(frame.columns)
    cast, null = _conform_columns(tuple(schema.items()))
    columns = [cast[name] if name in have else null[name] for name in schema]
    if LINE_COLUMN in have:
        columns.append(pl.col(LINE_COLUMN).cast(pl.Int64))
    return frame.select(columns)


def empty_events() -> pl.DataFrame:
    """Return an empty frame in the event schema."""
    return pl.DataFrame(schema=EVENT_SCHEMA)


def empty_rejects() -> pl.DataFrame:
    """Return an empty frame of rejected lines."""
    return pl.DataFrame(schema=REJECT_SCHEMA)
