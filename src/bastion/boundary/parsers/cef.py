"""ArcSight Common Event Format ("cef"), with or without a syslog header before ``CEF:``.

``CEF:Version|Vendor|Product|DeviceVersion|SignatureID|Name|Severity|Extension``: the
header's escaped ``\\|`` and ``\\\\`` and the extension's ``\\=``, ``\\\\``, ``\\n``, ``\\r``
are honoured. Escapes are first swapped for control characters that cannot occur in a
log line, so plain splits and regexes see only the real separators; values get the
characters back at the end.

Mapping: vendor/product → observer.*, Name → rule.name, ``act`` → event.action (and
event.type when it says block/deny/drop/allow …), src/dst/spt/dpt, proto,
``in``/``out`` → source.bytes/destination.bytes (CEF counts them from the source's
side), request/requestMethod/requestClientApplication → url.full, method, user agent,
dhost (when the request has no host) → url.domain, app → network.protocol,
``fileHash`` → file.hash.sha256 when it is a SHA-256, dvchost (else the syslog host) →
observer.name. @timestamp is ``rt``, else ``start``, else ``end`` (epoch ms or
``MMM dd [yyyy] HH:mm:ss[.SSS] [zone]``), else the syslog header's time.
"""

from __future__ import annotations

import re

import polars as pl

from bastion.boundary.parsers.base import ParseContext, Parser, ParseResult
from bastion.boundary.parsers.fields import (
    add_bytes,
    domain,
    epoch_millis,
    integer,
    iso_timestamp,
    null_if_blank,
    port,
    sha256,
    transport,
    verdict,
)
from bastion.boundary.parsers.results import ORIGINAL, REASON, finish, first_failure, line_frame
from bastion.boundary.parsers.sniffing import matcher, mostly
from bastion.boundary.parsers.urls import with_url_parts
from bastion.core.events import LINE_COLUMN, TIMESTAMP

_BACKSLASH, _PIPE, _EQUALS = "\x01", "\x02", "\x03"
_HEADER = ("version", "vendor", "product", "device_version", "signature", "name", "severity")
_KEYS = (
    "act",
    "app",
    "dhost",
    "dpt",
    "dst",
    "dvchost",
    "end",
    "fileHash",
    "in",
    "out",
    "proto",
    "request",
    "requestClientApplication",
    "requestMethod",
    "rt",
    "spt",
    "src",
    "start",
)
_TIME_FIELDS = ("rt", "start", "end")
_KEY = r"[\w.\[\]-]+"  # an extension key, as vendors write them (cs1Label, ad.name, …)
_SYSLOG_3164 = r"^(?:<\d{1,3}>)?([A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d) (\S+) "
_SYSLOG_5424 = r"^<\d{1,3}>\d{1,2} (\S+) (\S+) "


def _unescape(expr: pl.Expr) -> pl.Expr:
    """Give back the characters that escapes were swapped for."""
    return (
        # One pass for all of them; a masked backslash is never the start of "\\n".
        expr.str.replace_many(
            ["\\n", "\\r", _PIPE, _EQUALS, _BACKSLASH], ["\n", "\r", "|", "=", "\\"]
        )
    )


def _extension_value(key: str) -> pl.Expr:
    """Extract one key's value: it runs up to the next `` key=`` (escaped ``=`` is masked)."""
    # The whole match (`` key=value next=``) is far cheaper to find than a capture group;
    # fixed-width and end-anchored trims then cut it down to the value.
    span = pl.col("_ext").str.extract(rf"(?:^|\s){re.escape(key)}=.*?\s*(?:\s{_KEY}=|$)", 0)
    value = span.str.strip_chars_start().str.slice(len(key) + 1)
    value = value.str.replace(rf"\s*\s{_KEY}=$", "").str.strip_chars_end()
    return null_if_blank(_unescape(value))


def _cef_time(text: pl.Expr, year: int) -> pl.Expr:
    """Parse a CEF time: epoch milliseconds, or ``MMM dd [yyyy] HH:mm:ss[.SSS] [zone]``."""
    clean = text.str.strip_chars()
    millis = epoch_millis(clean)
    # Date text is parsed only where the value is not epoch milliseconds (the costly part).
    utc = pl.when(millis.is_null()).then(clean).str.replace(r" (?:UTC|GMT|Z)$", "")
    with_year = pl.when(utc.str.contains(r"^[A-Z][a-z]{2} +\d{1,2} \d{4} ")).then(utc)
    without_year = pl.when(utc.str.contains(r"^[A-Z][a-z]{2} +\d{1,2} \d\d:")).then(
        pl.concat_str([utc.str.slice(0, 6), pl.lit(f" {year}"), utc.str.slice(6)])
    )
    dated = pl.coalesce(with_year, without_year)
    naive = dated.str.to_datetime("%b %d %Y %H:%M:%S%.f", strict=False, time_unit="us")
    offset = dated.str.to_datetime("%b %d %Y %H:%M:%S%.f %z", strict=False, time_unit="us")
    return pl.coalesce(
        millis,
        naive.dt.replace_time_zone("UTC"),
        offset.dt.convert_time_zone("UTC"),
    )


def _syslog_time(prefix: pl.Expr, year: int) -> pl.Expr:
    """Parse the time of a syslog header (RFC 3164 with ``year``, or RFC 5424)."""
    bsd = prefix.str.extract(_SYSLOG_3164, 1).str.replace(r"^(\w{3}) +", "$1 ")
    bsd_time = pl.concat_str([bsd, pl.lit(f" {year}")]).str.to_datetime(
        "%b %d %H:%M:%S %Y", strict=False, time_unit="us"
    )
    return pl.coalesce(
        bsd_time.dt.replace_time_zone("UTC"), iso_timestamp(prefix.str.extract(_SYSLOG_5424, 1))
    )


def _events(frame: pl.LazyFrame, year: int) -> pl.LazyFrame:
    """Map split CEF lines (header fields and masked ``_ext``) to the schema."""
    col = pl.col
    # Costly intermediates become columns first (see the fields module's docstring).
    frame = frame.with_columns(_extension_value(key).alias(key) for key in _KEYS)
    prefix = pl.when(col("_start") > 0).then(col(ORIGINAL).str.head(col("_start")))
    frame = frame.with_columns(
        *(_cef_time(col(key), year).alias(f"_{key}_time") for key in _TIME_FIELDS),
        _syslog_time(prefix, year).alias("_syslog_time"),
        prefix.alias("_prefix"),
        integer(col("in")).alias("source.bytes"),
        integer(col("out")).alias("destination.bytes"),
    )
    frame = with_url_parts(frame, "request", "_request_")
    checks: list[tuple[pl.Expr, pl.Expr | str]] = [
        (col("_start") < 0, "cef: no 'CEF:' marker in the line"),
        (
            col("_ext").is_null(),
            "cef: missing header fields (need Version|Vendor|Product|Version|ID|Name|Severity|)",
        ),
    ]
    checks += [
        (
            col(key).is_not_null() & col(f"_{key}_time").is_null(),
            f"cef: field '{key}' is not epoch milliseconds or 'MMM dd yyyy HH:mm:ss'",
        )
        for key in _TIME_FIELDS
    ]
    checks += [
        (col(k).is_not_null() & port(col(k)).is_null(), f"cef: field '{k}' is not a port number")
        for k in ("spt", "dpt")
    ]
    times = [col(f"_{key}_time") for key in _TIME_FIELDS]
    return frame.select(
        col(LINE_COLUMN),
        col(ORIGINAL),
        first_failure(checks).alias(REASON),
        pl.coalesce(*times, col("_syslog_time")).cast(TIMESTAMP).alias("@timestamp"),
        pl.lit("cef").alias("event.dataset"),
        col("act").str.to_lowercase().alias("event.action"),
        verdict(col("act")).alias("event.type"),
        null_if_blank(_unescape(col("vendor"))).alias("observer.vendor"),
        null_if_blank(_unescape(col("product"))).alias("observer.product"),
        pl.coalesce(
            col("dvchost"),
            col("_prefix").str.extract(_SYSLOG_3164, 2),
            col("_prefix").str.extract(_SYSLOG_5424, 2),
        ).alias("observer.name"),
        col("src").alias("source.ip"),
        port(col("spt")).alias("source.port"),
        col("source.bytes"),
        col("dst").alias("destination.ip"),
        pl.coalesce(port(col("dpt")), col("_request_port")).alias("destination.port"),
        col("destination.bytes"),
        transport(col("proto")).alias("network.transport"),
        col("app").str.to_lowercase().alias("network.protocol"),
        add_bytes(col("source.bytes"), col("destination.bytes")).alias("network.bytes"),
        col("request").alias("url.full"),
        pl.coalesce(col("_request_domain"), domain(col("dhost"))).alias("url.domain"),
        col("_request_path").alias("url.path"),
        col("requestMethod").str.to_uppercase().alias("http.request.method"),
        col("requestClientApplication").alias("user_agent.original"),
        sha256(col("fileHash")).alias("file.hash.sha256"),
        null_if_blank(_unescape(col("name"))).alias("rule.name"),
    )


_sniff_line = matcher(r".*?CEF:\d+\|")


def _sniff(lines: list[str]) -> bool:
    return mostly(lines, _sniff_line)


def parse_cef(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse CEF lines into the common schema."""
    frame = line_frame(lines)
    text = pl.col(ORIGINAL)
    start = text.str.find("CEF:", literal=True).fill_null(-1)
    body = (
        text.str.slice(start + 4)
        # Leftmost match first, so an escaped backslash before "|" or "=" is seen as such.
        .str.replace_many(["\\\\", "\\|", "\\="], [_BACKSLASH, _PIPE, _EQUALS])
    )
    # splitn leaves the extension (which may hold unescaped pipes) whole in the last part.
    header = body.str.splitn("|", len(_HEADER) + 1).struct.rename_fields([*_HEADER, "_ext"])
    # Unnest the split as a frame step: an expression-level unnest would split once per field.
    split = frame.lazy().select(LINE_COLUMN, ORIGINAL, start.alias("_start"), header.alias("_h"))
    split = split.unnest("_h")
    return finish(_events(split, ctx.default_year).collect())


PARSER = Parser(
    name="cef",
    description="ArcSight CEF, optionally after a syslog header",
    parse=parse_cef,
    sniff=_sniff,
)
