"""Sigma log sources → Bastion datasets and fields: a named registry of pySigma pipelines.

Each ``LogSource`` names a Sigma log source (category, or product and service), the
``event.dataset`` values the boundary parsers give such events, and how the taxonomy's
field names map onto the common ECS schema. ``processing_pipeline()`` turns the whole
registry into one pySigma ``ProcessingPipeline`` (a field mapping per log source), so a
rule's fields are renamed by pySigma itself, the way every Sigma backend does it.

A rule whose log source is not registered still compiles: it is routed to the dataset
``<product>.<service>`` (or ``<category>``), which an ``ecs`` JSON source can carry, and
its report says that no Bastion parser produces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl
from sigma.processing.conditions import LogsourceCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldMappingTransformation
from sigma.rule import SigmaLogSource

from bastion.core.events import ARCHIVE_SCHEMA

# Columns computed from the batch when a rule needs them (they are not archived).
DERIVED: dict[str, pl.Expr] = {
    # the query string: what follows the first "?" of the URL
    "url.query": pl.col("url.full").str.extract(r"\?(.*)$", 1),
    # the extension of the URL path's last segment, without the dot
    "url.extension": pl.col("url.path").str.extract(r"\.([^./]*)$", 1),
}
DERIVED_SOURCES: dict[str, str] = {"url.query": "url.full", "url.extension": "url.path"}
DERIVED_SCHEMA: dict[str, pl.DataType] = {"url.query": pl.String(), "url.extension": pl.String()}
COLUMNS: dict[str, pl.DataType] = {**ARCHIVE_SCHEMA, **DERIVED_SCHEMA}
RAW_FIELD = "event.original"  # where keyword (full-text) searches look
DATASET_FIELD = "event.dataset"

_PROXY_HTTP = {
    "c-uri": "url.full",
    "cs-uri": "url.full",
    "c-uri-query": "url.query",
    "c-uri-stem": "url.path",
    "c-uri-extension": "url.extension",
    "c-useragent": "user_agent.original",
    "cs-referrer": "http.request.referrer",
    "cs-referer": "http.request.referrer",
    "cs-host": "url.domain",
    "r-dns": "url.domain",
    "cs-method": "http.request.method",
    "sc-status": "http.response.status_code",
    "cs-bytes": "source.bytes",
    "sc-bytes": "destination.bytes",
    "src_ip": "source.ip",
    "dst_ip": "destination.ip",
    "dst_port": "destination.port",
}
_ZEEK_CONN = {
    "id.orig_h": "source.ip",
    "id.orig_p": "source.port",
    "id.resp_h": "destination.ip",
    "id.resp_p": "destination.port",
    "proto": "network.transport",
    "ts": "@timestamp",
}


@dataclass(frozen=True)
class LogSource:
    """One Sigma log source Bastion reads, with its datasets and field mapping."""

    name: str
    category: str | None = None
    product: str | None = None
    service: str | None = None
    datasets: tuple[str, ...] = ()
    fields: dict[str, str] = field(default_factory=dict)

    def sigma(self) -> SigmaLogSource:
        return SigmaLogSource(self.category, self.product, self.service)


LOGSOURCES: dict[str, LogSource] = {}


def register(source: LogSource) -> LogSource:
    """Add a log source to the registry under its name."""
    LOGSOURCES[source.name] = source
    return source


def _zeek(service: str, fields: dict[str, str] | None = None) -> LogSource:
    """Return Zeek's ``service`` log: dataset ``zeek.<service>``, its conn fields and ``fields``."""
    return LogSource(
        f"zeek-{service}",
        product="zeek",
        service=service,
        datasets=(f"zeek.{service}",),
        fields={**_ZEEK_CONN, **(fields or {})},
    )


register(
    LogSource(
        "proxy",
        category="proxy",
        datasets=("squid.access", "fortigate.webfilter", "panos.threat", "zeek.http"),
        fields=_PROXY_HTTP,
    )
)
register(
    LogSource(
        "webserver",
        category="webserver",
        datasets=("nginx.access",),
        fields={
            "c-ip": "source.ip",
            "s-ip": "destination.ip",
            "s-port": "destination.port",
            "cs-method": "http.request.method",
            # Sigma's web rules look for attack strings anywhere in the request target,
            # so cs-uri-query is the whole target (path and query), as most backends map it.
            "cs-uri-query": "url.full",
            "cs-uri-stem": "url.path",
            "cs-uri": "url.full",
            "sc-status": "http.response.status_code",
            "cs-host": "url.domain",
            "cs-user-agent": "user_agent.original",
            "cs-referer": "http.request.referrer",
            "cs-bytes": "source.bytes",
            "sc-bytes": "destination.bytes",
        },
    )
)
register(
    LogSource(
        "dns",
        category="dns",
        datasets=("zeek.dns", "fortigate.dns"),
        fields={
            "query": "dns.question.name",
            "record_type": "dns.question.type",
            "rcode": "dns.response_code",
            "response_code": "dns.response_code",
            "src_ip": "source.ip",
            "dst_ip": "destination.ip",
        },
    )
)
register(
    LogSource(
        "firewall",
        category="firewall",
        datasets=(
            "panos.traffic",
            "fortigate.traffic",
            "cisco.asa",
            "iptables",
            "cef",
            "zeek.conn",
        ),
        fields={
            "src_ip": "source.ip",
            "src_port": "source.port",
            "dst_ip": "destination.ip",
            "dst_port": "destination.port",
            "action": "event.action",
            "protocol": "network.transport",
        },
    )
)
register(
    _zeek(
        "dns",
        {
            "query": "dns.question.name",
            "qtype_name": "dns.question.type",
            "rcode_name": "dns.response_code",
            "answers": "dns.answers",
            "rejected": "dns.rejected",
            "Z": "dns.z",
        },
    )
)
register(
    _zeek(
        "http",
        {
            **{k: v for k, v in _PROXY_HTTP.items() if k not in ("src_ip", "dst_ip", "dst_port")},
            "host": "url.domain",
            "uri": "url.full",
            "method": "http.request.method",
            "status_code": "http.response.status_code",
            "user_agent": "user_agent.original",
            "referrer": "http.request.referrer",
        },
    )
)
register(_zeek("x509", {"fingerprint": "file.hash.sha256"}))
register(_zeek("ssl", {"server_name": "tls.server.name", "ja3": "tls.client.ja3"}))
register(
    LogSource(
        "fortigate-event",
        product="fortigate",
        service="event",
        datasets=("fortigate.event",),
        fields={"action": "event.action"},
    )
)
register(LogSource("zeek-conn", product="zeek", service="conn", datasets=("zeek.conn",)))
for _service in ("dce_rpc", "kerberos", "rdp", "smb_files", "smb_mapping", "ntlm", "files"):
    register(_zeek(_service))


def find_logsource(logsource: SigmaLogSource) -> LogSource | None:
    """Return the registered log source a rule's log source falls under, most specific first."""
    best: tuple[int, LogSource] | None = None
    for source in LOGSOURCES.values():
        wanted = (source.category, source.product, source.service)
        given = (logsource.category, logsource.product, logsource.service)
        if any(w is not None and w != g for w, g in zip(wanted, given, strict=True)):
            continue
        score = sum(w is not None for w in wanted)
        if score and (best is None or score > best[0]):
            best = (score, source)
    return best[1] if best else None


def datasets_for(logsource: SigmaLogSource) -> tuple[tuple[str, ...], bool]:
    """Return the datasets a rule of this log source runs on, and whether Bastion parses them.

    A rule with no log source fields at all runs on every dataset (the empty tuple).
    """
    source = find_logsource(logsource)
    if source is not None:
        return source.datasets, True
    parts = [p for p in (logsource.product, logsource.service) if p] or [
        p for p in (logsource.category,) if p
    ]
    if not parts:
        return (), True
    return (".".join(parts),), False


def processing_pipeline() -> ProcessingPipeline:
    """Build the pySigma pipeline that renames taxonomy fields to Bastion's columns."""
    items = [
        ProcessingItem(
            identifier=f"bastion-{source.name}",
            transformation=FieldMappingTransformation(
                {k: v for k, v in source.fields.items()}  # noqa: C416 - widens the key type
            ),
            rule_conditions=[
                LogsourceCondition(
                    category=source.category, product=source.product, service=source.service
                )
            ],
        )
        for source in LOGSOURCES.values()
        if source.fields
    ]
    return ProcessingPipeline(name="bastion-ecs", priority=20, items=items)
