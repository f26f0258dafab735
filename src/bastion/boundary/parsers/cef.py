"""ArcSight Common Event Format ("cef"), with or without a syslog header before ``CEF:``.

``CEF:Version|Vendor|Product|DeviceVersion|SignatureID|Name|Severity|Extension``: the
header's escaped ``\\|`` and ``\\\\`` and the extension's ``\\=``, ``\\\\``, ``\\n``, ``\\r``
are honoured. Escapes are first swapped for control characters that cannot occur in a
log line, so plain splits and regexes see only the real separators; values get the
characters back at the end.

Mapping: vendor/product → observer.*, Name → rule.name (unless a ``csN`` labelled
"Rule"/"Policy" names the policy), ``act`` → event.action and, through ``VERDICTS``,
event.type; src/dst/spt/dpt (an address field that holds no address is null), proto,
``in``/``out`` → source.bytes/destination.bytes (CEF counts them from the source's
side), request/requestMethod/requestClientApplication → url.full, method, user agent,
dhost (when the request has no host) → url.domain, app → network.protocol,
``fileHash`` → file.hash.sha256 when it is a SHA-256, dvchost (else the syslog host) →
observer.name; the translated addresses and ports → source.nat.*/destination.nat.*;
``suser``/``duser`` → user.name/destination.user.name (``DOMAIN\\user`` split, the
domain to user.domain, else ``sntdom``). Threat, URL category and application come
from ``csN``/``csNLabel`` (and ``cnN``) pairs whose label names them (``LABELS``); a record naming
a threat takes ``cat`` as its category and the header severity as its severity when
no label gives them.

@timestamp is ``rt``, else ``start``, else ``end`` (epoch ms or ``MMM dd [yyyy]
HH:mm:ss[.SSS] [zone]``), else the syslog header's time, else the time the line was
received (``ParseContext.received``, or the parse time when the caller does not say).
A time without a zone is in the source's zone (``ParseContext.timezone``).
"""

from __future__ import annotations

import re

import polars as pl

from bastion.boundary.parsers.base import ParseContext, Parser, ParseResult
from bastion.boundary.parsers.fields import (
    ADDRESSES,
    ALLOW_WORDS,
    DENY_WORDS,
    add_bytes,
    compress_ipv6,
    domain,
    epoch_millis,
    integer,
    ip_address,
    iso_timestamp,
    localise,
    null_if_blank,
    port,
    sha256,
    transport,
    user_parts,
    verdict,
)
from bastion.boundary.parsers.results import (
    ORIGINAL,
    checked,
    derive_where,
    fill_where,
    finish,
    line_frame,
)
from bastion.boundary.parsers.sniffing import sniffer
from bastion.boundary.parsers.urls import with_url_parts
from bastion.core.events import LINE_COLUMN, TIMESTAMP

_BACKSLASH, _PIPE, _EQUALS = "\x01", "\x02", "\x03"
_HEADER = ("version", "vendor", "product", "device_version", "signature", "name", "severity")
# What ``act`` says, in the words devices use. None: the device only reports (an IDS
# "alert", "detect", "log", "monitor"): neither a verdict of allowed nor of denied.
VERDICTS: dict[str, str | None] = {
    **dict.fromkeys(ALLOW_WORDS, "allowed"),
    **dict.fromkeys(
        (*DENY_WORDS, "reset-both", "reset-client", "reset-server", "terminate", "terminated"),
        "denied",
    ),
    **dict.fromkeys(("alert", "detect", "detected", "log", "logged", "monitor"), None),
}
# ``csNLabel`` values (lower-case, letters and digits only) that name a field of ours.
LABELS: dict[str, tuple[str, ...]] = {
    "threat.name": ("threatname", "threat", "attackname", "attack", "virusname", "virus"),
    "threat.id": ("threatid", "attackid", "virusid", "signatureid"),
    "threat.category": ("threatcategory", "threattype", "attackcategory"),
    "threat.severity": ("threatseverity",),
    "url.category": ("urlcategory", "webcategory"),
    "network.application": ("application", "applicationname"),
    "rule.name": ("rule", "rulename", "policy", "policyname", "securityrule"),
}
ALLOWED = [word for word, said in VERDICTS.items() if said == "allowed"]
DENIED = [word for word, said in VERDICTS.items() if said == "denied"]
_LABEL_FIELDS = {word: name for name, words in LABELS.items() for word in words}
# The custom strings and numbers a label can name (threat ids are often numbers).
_CUSTOM = (*(f"cs{n}" for n in range(1, 7)), *(f"cn{n}" for n in range(1, 4)))
_CUSTOM_LABELS = tuple(f"{key}Label" for key in _CUSTOM)
_USER_KEYS = ("suser", "duser", "sntdom")
_NAT_KEYS = (
    "sourceTranslatedAddress",
    "sourceTranslatedPort",
    "destinationTranslatedAddress",
    "destinationTranslatedPort",
)
_KEYS = (
    "act",
    "cat",
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
_KEY = r"[A-Za-z0-9_.\[\]-]+"  # an extension key, as vendors write them (cs1Label, ad.name, …)
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


def _cef_time(text: pl.Expr, year: int, zone: str) -> pl.Expr:
    """Parse a CEF time: epoch milliseconds, or ``MMM dd [yyyy] HH:mm:ss[.SSS] [zone]``."""
    clean = text.str.strip_chars()
    millis = epoch_millis(clean)
    # Date text is parsed only where the value is not epoch milliseconds (the costly part).
    utc = pl.when(millis.is_null()).then(clean).str.replace(r" (?:UTC|GMT|Z)$", " +0000")
    with_year = pl.when(utc.str.contains(r"^[A-Z][a-z]{2} +\d{1,2} \d{4} ")).then(utc)
    without_year = pl.when(utc.str.contains(r"^[A-Z][a-z]{2} +\d{1,2} \d\d:")).then(
        pl.concat_str([utc.str.slice(0, 6), pl.lit(f" {year}"), utc.str.slice(6)])
    )
    dated = pl.coalesce(with_year, without_year)
    naive = dated.str.to_datetime("%b %d %Y %H:%M:%S%.f", strict=False, time_unit="us")
    offset = dated.str.to_datetime("%b %d %Y %H:%M:%S%.f %z", strict=False, time_unit="us")
    return pl.coalesce(millis, localise(naive, zone), offset.dt.convert_time_zone("UTC"))


def _syslog_time(prefix: pl.Expr, year: int, zone: str) -> pl.Expr:
    """Parse the time of a syslog header (RFC 3164 with ``year``, or RFC 5424)."""
    bsd = prefix.str.extract(_SYSLOG_3164, 1).str.replace(r"^(\w{3}) +", "$1 ")
    bsd_time = pl.concat_str([bsd, pl.lit(f" {year}")]).str.to_datetime(
        "%b %d %H:%M:%S %Y", strict=False, time_unit="us"
    )
    return pl.coalesce(localise(bsd_time, zone), iso_timestamp(prefix.str.extract(_SYSLOG_5424, 1)))


def _read_optional(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the user, NAT and labelled fields, read only on the lines that name them.

    A batch where no line names them skips the reading altogether: its regexes cost
    more to prepare than a small batch takes to parse.
    """
    ext = pl.col("_ext")
    gates = frame.select(
        users=ext.str.contains(r"(?:suser|duser|sntdom)="),
        nat=ext.str.contains("Translated", literal=True),
        custom=ext.str.contains("Label=", literal=True),
    )
    none = pl.lit(None, pl.String)
    if gates.get_column("users").any():
        users = {key: _extension_value(key) for key in _USER_KEYS}
        frame = fill_where(frame, pl.lit(gates.get_column("users")), users)
    else:
        frame = frame.with_columns(none.alias(key) for key in _USER_KEYS)
    if gates.get_column("nat").any():
        nat = {key: _extension_value(key) for key in _NAT_KEYS}
        frame = fill_where(frame, pl.lit(gates.get_column("nat")), nat)
    else:
        frame = frame.with_columns(none.alias(key) for key in _NAT_KEYS)
    if not gates.get_column("custom").any():
        return frame.with_columns(none.alias(f"_{name}") for name in LABELS)
    custom = {key: _extension_value(key) for key in (*_CUSTOM, *_CUSTOM_LABELS)}
    return derive_where(frame, pl.lit(gates.get_column("custom")), custom, _labelled())


def _labelled() -> dict[str, pl.Expr]:
    """Return each ``LABELS`` field (as ``_field``) from the ``csN``/``cnN`` whose label names it."""
    targets = {
        key: pl.col(f"{key}Label")
        .str.to_lowercase()
        .str.replace_all("[^a-z0-9]", "")
        .replace_strict(_LABEL_FIELDS, default=None)
        for key in _CUSTOM
    }
    return {
        f"_{name}": pl.coalesce(
            [pl.when(target == name).then(pl.col(key)) for key, target in targets.items()]
        )
        for name in LABELS
    }


def _events(frame: pl.LazyFrame, ctx: ParseContext) -> pl.LazyFrame:
    """Map split CEF lines (header fields and masked ``_ext``) to the schema."""
    col = pl.col
    year, zone = ctx.default_year, ctx.timezone
    received = ctx.received
    prefix = pl.when(col("_start") > 0).then(col(ORIGINAL).str.head(col("_start")))
    frame = frame.with_columns(
        *(_cef_time(col(key), year, zone).alias(f"_{key}_time") for key in _TIME_FIELDS),
        _syslog_time(prefix, year, zone).alias("_syslog_time"),
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
    user, user_domain = user_parts(col("suser"))
    destination_user, _ = user_parts(col("duser"))
    # A record that names a threat is about it: its category and severity are the threat's.
    threat = col("_threat.name").is_not_null()
    return frame.select(
        *checked(checks),
        pl.coalesce(*times, col("_syslog_time"), pl.lit(received).dt.convert_time_zone("UTC"))
        .cast(TIMESTAMP)
        .alias("@timestamp"),
        pl.lit("cef").alias("event.dataset"),
        col("act").str.to_lowercase().alias("event.action"),
        verdict(col("act"), ALLOWED, DENIED).alias("event.type"),
        null_if_blank(_unescape(col("vendor"))).alias("observer.vendor"),
        null_if_blank(_unescape(col("product"))).alias("observer.product"),
        pl.coalesce(
            col("dvchost"),
            col("_prefix").str.extract(_SYSLOG_3164, 2),
            col("_prefix").str.extract(_SYSLOG_5424, 2),
        ).alias("observer.name"),
        ip_address(col("src")).alias("source.ip"),
        port(col("spt")).alias("source.port"),
        col("source.bytes"),
        ip_address(col("dst")).alias("destination.ip"),
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
        pl.coalesce(col("_rule.name"), null_if_blank(_unescape(col("name")))).alias("rule.name"),
        ip_address(col("sourceTranslatedAddress")).alias("source.nat.ip"),
        port(col("sourceTranslatedPort")).alias("source.nat.port"),
        ip_address(col("destinationTranslatedAddress")).alias("destination.nat.ip"),
        port(col("destinationTranslatedPort")).alias("destination.nat.port"),
        user.alias("user.name"),
        pl.coalesce(user_domain, col("sntdom")).alias("user.domain"),
        destination_user.alias("destination.user.name"),
        col("_threat.name").alias("threat.name"),
        col("_threat.id").alias("threat.id"),
        pl.coalesce(col("_threat.category"), pl.when(threat).then(col("cat"))).alias(
            "threat.category"
        ),
        pl.coalesce(
            col("_threat.severity"),
            pl.when(threat).then(null_if_blank(_unescape(col("severity")))),
        )
        .str.to_lowercase()
        .alias("threat.severity"),
        col("_url.category").alias("url.category"),
        col("_network.application").str.to_lowercase().alias("network.application"),
    )


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
    # Costly intermediates become columns first (see the fields module's docstring).
    split = split.with_columns(_extension_value(key).alias(key) for key in _KEYS)
    events = _events(_read_optional(split.collect()).lazy(), ctx).collect()
    # IPv6 in its RFC 5952 short form, lower-case, as every parser gives it.
    return finish(events.with_columns(compress_ipv6(events.get_column(n)) for n in ADDRESSES))


PARSER = Parser(
    name="cef",
    description="ArcSight CEF, optionally after a syslog header",
    parse=parse_cef,
    sniff=sniffer(r"CEF:\d+\|", share=0.8),
)
