"""Fortinet FortiGate (FortiOS 6/7) key=value syslog ("fortigate").

A line is an optional syslog header (often just ``<189>``) and ``key=value``
pairs in any order; text values are double-quoted (``devname="fw 1"``),
numbers and addresses may be bare. Read: ``type=traffic`` (any subtype),
``type=utm`` subtypes webfilter, dns, app-ctrl, ips, virus and anomaly, and
``type=event`` logins (``action=login``/``logout``/``authentication``, as
``event.category=authentication``); other records are rejected with their type
and subtype named, and the rest of the file is read.

Time is ``eventtime=`` (epoch in s, ms, µs or ns, told apart by its digits) when
the line has it; else ``date=`` + ``time=`` in the offset ``tz=`` (``-0800``,
``+01:00``), or in the source's time zone (``ParseContext.timezone``) without one.

Verdicts come from ``VERDICTS``, one row per action word FortiOS writes;
``utmaction=block``/``reset`` makes any action denied. ICMP has no ports, so
none are taken from an ICMP line (FortiOS may log the inner packet's).

Each wanted key is one regex pass over the column, which beats extracting every
pair once and picking keys from the lists (docs/parsers.md has the figures). Keys
FortiOS writes side by side (srcip srcport, …) share a pass, with a per-key pass
where a line has them apart; keys only some lines carry (NAT, users,
applications, threats, logins, fallback time, URL, DNS question) are read on
those lines only.
"""

from __future__ import annotations

import re
from functools import cache

import polars as pl

from bastion.boundary.parsers.base import ParseContext, Parser, ParseResult, clip
from bastion.boundary.parsers.fields import (
    compress_ipv6,
    domain,
    integer,
    ip_address,
    localise,
    not_number,
    port,
    transport,
    verdict,
)
from bastion.boundary.parsers.results import (
    ORIGINAL,
    Check,
    derive_where,
    fill_where,
    finish_checked,
    line_frame,
    scatter_rows,
)
from bastion.boundary.parsers.urls import url_parts
from bastion.boundary.syslog import split_syslog

# Every action word FortiOS writes, and the verdict it means. None: neither, and why.
VERDICTS: dict[str, str | None] = {
    # Traffic: "all others are allowed by the policy; the word says how the session ended".
    "accept": "allowed",
    "start": "allowed",
    "close": "allowed",
    "timeout": "allowed",
    "server-rst": "allowed",
    "client-rst": "allowed",
    # Traffic: the policy denied the session.
    "deny": "denied",
    # Traffic: the policy allowed it but it failed (a DNS or IP connection error): no verdict.
    "dns": None,
    "ip-conn": None,
    # UTM (web and DNS filter, application control, IPS, antivirus): let through …
    "pass": "allowed",
    "passthrough": "allowed",
    "pass_session": "allowed",
    "exempt": "allowed",
    "monitored": "allowed",
    "detected": "allowed",
    # … or stopped.
    "block": "denied",
    "blocked": "denied",
    "dropped": "denied",
    "drop": "denied",
    "drop_session": "denied",
    "clear_session": "denied",
    "reset": "denied",
    "reset_client": "denied",
    "reset_server": "denied",
    "redirect": "denied",
    # Event logins: an outcome (event.outcome), not a traffic verdict.
    "login": None,
    "logout": None,
    "authentication": None,
}
ALLOWED = [word for word, said in VERDICTS.items() if said == "allowed"]
DENIED = [word for word, said in VERDICTS.items() if said == "denied"]
# ``utmaction`` words that stop a session whatever ``action`` says (``close`` after a block).
UTM_DENIED = ("block", "reset")
# Login ``status`` words and the ECS outcome they mean.
OUTCOMES = {"success": "success", "failed": "failure", "failure": "failure", "fail": "failure"}

# UTM subtypes read, and the ECS category of the threat ones.
UTM_SUBTYPES = ("webfilter", "dns", "app-ctrl", "ips", "virus", "anomaly")
THREAT_CATEGORIES = {
    "ips": "intrusion_detection",
    "anomaly": "intrusion_detection",
    "virus": "malware",
}
LOGIN_ACTIONS = ("login", "logout", "authentication")
READ = "traffic; utm webfilter, dns, app-ctrl, ips, virus, anomaly; event logins"

# A key starts the line, follows the <PRI> or follows a space.
_KEY_START = "(?:^|[ >])"
# A text value may be quoted and hold spaces and \\" escapes; other values are one word.
_TEXT_VALUE = r'(?:"(?:[^"\\]|\\.)+"|[^ "][^ ]*)'
_TEXT_KEYS = frozenset(
    {
        "devname",
        "service",
        "policyname",
        "hostname",
        "url",
        "qname",
        "user",
        "unauthuser",
        "dstuser",
        "app",
        "catdesc",
        "attack",
        "virus",
        "logdesc",
        "ui",
    }
)


def _value(line: pl.Expr, key: str) -> pl.Expr:
    """Return the unquoted value of ``key=`` in each line; null when absent or empty."""
    name = re.escape(key)
    if key not in _TEXT_KEYS:
        return line.str.extract(f'{_KEY_START}{name}="?([^ "]+)', 1)
    # Group 0 of a pattern without groups is cheaper than a capture with two alternatives.
    found = line.str.extract(f"{_KEY_START}{name}={_TEXT_VALUE}", 0)
    unquoted = (
        found.str.strip_chars_start(" >")
        .str.slice(len(key) + 1)
        .str.strip_prefix('"')
        .str.strip_suffix('"')
    )
    return unquoted.str.replace_all('\\"', '"', literal=True)


@cache
def _values(keys: tuple[str, ...]) -> dict[str, pl.Expr]:
    """Return the expressions reading ``keys`` (built once: a chunk reuses them)."""
    return {key: _value(pl.col(ORIGINAL), key) for key in keys}


# FortiOS writes these keys side by side; one regex pass reads both. Where a line
# has them apart (or lacks them), each is then looked for on its own.
_PAIRS = (("type", "subtype"), ("srcip", "srcport"), ("dstip", "dstport"), ("sentbyte", "rcvdbyte"))
_SINGLES = ("eventtime", "devname", "proto", "service", "action", "policyname")
# Keys of context some lines carry (NAT, users, applications): read on the lines one
# pass finds naming any of them.
_CONTEXT_KEYS = (
    "transip",
    "transport",
    "tranip",
    "tranport",
    "user",
    "unauthuser",
    "dstuser",
    "app",
    "apprisk",
    "utmaction",
)
_CONTEXT = r"(?:transip|transport|tranip|tranport|user|app|apprisk|utmaction)="
_THREAT_KEYS = ("attack", "attackid", "virus", "virusid", "severity", "crlevel", "dtype")
_LOGIN_KEYS = ("ui", "status")


@cache
def _context_fields() -> dict[str, pl.Expr]:
    """Return NAT, user and application fields (and whether UTM blocked) from their keys."""
    col = pl.col
    return {
        "source.nat.ip": ip_address(col("transip")),
        "source.nat.port": port(col("transport")),
        "destination.nat.ip": ip_address(col("tranip")),
        "destination.nat.port": port(col("tranport")),
        "user.name": pl.coalesce(col("user"), col("unauthuser")),
        "destination.user.name": col("dstuser"),
        "network.application": col("app").str.to_lowercase(),
        "network.application_risk": col("apprisk").str.to_lowercase(),
        "_utm_denied": col("utmaction").str.to_lowercase().is_in(UTM_DENIED),
    }


@cache
def _threat_fields() -> dict[str, pl.Expr]:
    """Return the threat fields of an IPS, antivirus or anomaly record."""
    col = pl.col
    kind = col("_kind")
    return {
        "event.category": kind.replace_strict(THREAT_CATEGORIES, default=None),
        "threat.name": pl.coalesce(col("attack"), col("virus")),
        "threat.id": pl.coalesce(col("attackid"), col("virusid")),
        # Antivirus names the kind of file it found (Virus, Grayware, Riskware …).
        "threat.category": pl.when(kind == "virus")
        .then(pl.coalesce(col("dtype").str.to_lowercase(), pl.lit("virus")))
        .otherwise(kind),
        "threat.severity": pl.coalesce(col("severity"), col("crlevel")).str.to_lowercase(),
    }


@cache
def _login_fields() -> dict[str, pl.Expr]:
    """Return a login's outcome, and its client address and protocol from ``ui="ssh(…)"``."""
    ui = pl.col("ui")
    protocol = ui.str.extract(r"^([A-Za-z]+)\(", 1).str.to_lowercase()
    return {
        "event.category": pl.lit("authentication"),
        "event.outcome": pl.col("status").str.to_lowercase().replace_strict(OUTCOMES, default=None),
        "_ui_ip": ui.str.extract(r"\(([0-9A-Fa-f.:]+)\)$", 1),
        "_ui_protocol": pl.when(protocol.is_in(["ssh", "telnet", "http", "https"])).then(protocol),
    }


@cache
def _pair_passes() -> list[pl.Expr]:
    """Return one extraction per pair of ``_PAIRS``, as a struct column ``_<first key>``."""
    line = pl.col(ORIGINAL)
    return [
        line.str.extract_groups(
            f'{_KEY_START}{first}="?(?P<{first}>[^ "]+)"? {second}="?(?P<{second}>[^ "]+)'
        ).alias(f"_{first}")
        for first, second in _PAIRS
    ]


def _read_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """Add a column per wanted key (pairs first, then the keys read one by one)."""
    frame = frame.with_columns(_pair_passes()).unnest([f"_{first}" for first, _ in _PAIRS])
    frame = frame.with_columns(**_values(_SINGLES))
    for first, second in _PAIRS:
        frame = fill_where(frame, pl.col(first).is_null(), _values((first, second)))
    return frame


def _syslog_hosts(frame: pl.DataFrame, year: int) -> pl.Series:
    """Return the syslog host of the lines with no ``devname=`` (only they need it)."""
    missing = frame.get_column("devname").is_null()
    hosts = pl.repeat(None, frame.height, dtype=pl.String, eager=True)
    if missing.any():
        header = split_syslog(frame.get_column(ORIGINAL).filter(missing), year)
        hosts = hosts.scatter(missing.arg_true(), header.get_column("syslog.hostname"))
    return hosts.alias("syslog.hostname")


def _epoch(eventtime: pl.Expr) -> pl.Expr:
    """Return the UTC time of an epoch number in s, ms, µs or ns (told apart by its digits)."""
    number = integer(eventtime, pl.Int64())
    digits = eventtime.str.len_bytes()
    nanos = (
        pl.when(digits >= 18)
        .then(number)
        .when(digits >= 15)
        .then(number * 1_000)
        .when(digits >= 12)
        .then(number * 1_000_000)
        .otherwise(number * 1_000_000_000)
    )
    return pl.from_epoch(nanos, time_unit="ns").dt.cast_time_unit("us").dt.replace_time_zone("UTC")


def _tz_minutes(tz: pl.Expr) -> pl.Expr:
    """Return the minutes east of UTC of ``+hhmm``/``-hh:mm``; null when unreadable."""
    compact = tz.str.replace(":", "", literal=True)
    sign = pl.when(compact.str.starts_with("-")).then(-1).otherwise(1)
    hours = integer(compact.str.slice(1, 2), pl.Int64())
    minutes = integer(compact.str.slice(3, 2), pl.Int64())
    return pl.when(compact.str.contains(r"^[+-][0-9]{4}$")).then(sign * (hours * 60 + minutes))


def _local_time(date: pl.Expr, time: pl.Expr, tz: pl.Expr, zone: str) -> pl.Expr:
    """Return the UTC time of ``date=`` ``time=``: in the offset ``tz=``, else in ``zone``.

    A time without an offset is read as ``fields.localise`` says, the rule for every format.
    """
    local = pl.concat_str([date, pl.lit(" "), time]).str.strptime(
        pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False
    )
    offset = (local - pl.duration(minutes=_tz_minutes(tz))).dt.replace_time_zone("UTC")
    return pl.when(tz.is_null()).then(localise(local, zone)).otherwise(offset)


def _scheme(service: pl.Expr, dport: pl.Expr) -> pl.Expr:
    https = (service.str.to_uppercase() == "HTTPS") | (dport == 443)
    return pl.when(https.fill_null(False)).then(pl.lit("https")).otherwise(pl.lit("http"))


def _web_url(url: pl.Expr, hostname: pl.Expr) -> pl.Expr:
    """Return ``url=`` when it is absolute, else ``hostname=`` + ``url=`` (a path)."""
    absolute = url.str.contains(r"^[A-Za-z][A-Za-z0-9+.-]*://")
    joined = pl.concat_str([hostname, url.fill_null("/")])
    return (
        pl.when(absolute.fill_null(False))
        .then(url)
        .otherwise(pl.when(hostname.is_not_null()).then(joined))
    )


def _with_values(template: str, *keys: str) -> pl.Expr:
    """Return ``template`` with the keys' values in its ``{}``: clipped, ``(none)`` if absent."""
    return pl.format(template, *(clip(pl.col(key).fill_null("(none)")) for key in keys))


@cache
def _checks() -> list[Check]:
    """Return the checks of a line's key values, each with its reason."""
    col = pl.col
    checks: list[Check] = [
        (col("type").is_null(), "fortigate: no type= field; not a FortiGate key=value log"),
        (
            col("_kind").is_null() & (col("type") == "event"),
            _with_values(
                "fortigate: type=event subtype={} records other than logins are not read "
                "(action={} logdesc={})",
                "subtype",
                "action",
                "logdesc",
            ),
        ),
        (
            col("_kind").is_null(),
            _with_values(
                f"fortigate: type={{}} subtype={{}} records are not read (read: {READ})",
                "type",
                "subtype",
            ),
        ),
        (
            not_number(col("eventtime"), integer(col("eventtime"), pl.Int64())),
            pl.format("fortigate: eventtime={} is not an epoch number", clip(col("eventtime"))),
        ),
        (
            col("_time").is_null(),
            _with_values(
                "fortigate: no usable time (date={} time={} tz={}); "
                "need eventtime= or date=YYYY-MM-DD time=hh:mm:ss [tz=+hhmm]",
                "date",
                "time",
                "tz",
            ),
        ),
    ]
    return checks + [
        (
            not_number(col(key), col(parsed)),
            pl.format(f"fortigate: {key}={{}} is not a number", clip(col(key))),
        )
        for key, parsed in (
            ("srcport", "_sport"),
            ("dstport", "_dport"),
            ("sentbyte", "_sent"),
            ("rcvdbyte", "_received"),
        )
    ]


def _result(frame: pl.DataFrame) -> ParseResult:
    """Check the extracted key values of ``frame`` and map the good lines to the schema."""
    col = pl.col
    frame = frame.with_columns(
        _time=pl.coalesce(_epoch(col("eventtime")), col("_local_time")),
        _sport=port(col("srcport")),
        _dport=port(col("dstport")),
        _sent=integer(col("sentbyte"), pl.Int64()),
        _received=integer(col("rcvdbyte"), pl.Int64()),
        _transport=transport(col("proto")),
        _srcip=ip_address(pl.coalesce(col("srcip"), col("_ui_ip"))),
        _dstip=ip_address(col("dstip")),
    )
    # IPv6 in its RFC 5952 short form, lower-case; only addresses holding a colon are touched.
    addresses = ["_srcip", "_dstip", "source.nat.ip", "destination.nat.ip"]
    frame = frame.with_columns(compress_ipv6(frame.get_column(name)) for name in addresses)
    return finish_checked(frame, _checks(), _fields())


@cache
def _fields() -> list[pl.Expr]:
    """Return the schema's fields from a frame of checked key values."""
    col = pl.col
    kind = col("_kind")
    service = col("service").str.to_lowercase()
    sent, received = col("_sent"), col("_received")
    # ICMP has no ports: numbers FortiOS logs with it (an error's inner packet) are not ports.
    ported = ~col("_transport").is_in(["icmp", "ipv6-icmp"]).fill_null(False)
    return [
        col("_time").alias("@timestamp"),
        (pl.lit("fortigate.") + kind).alias("event.dataset"),
        col("action").str.to_lowercase().alias("event.action"),
        pl.when(col("_utm_denied"))
        .then(pl.lit("denied"))
        .otherwise(verdict(col("action"), ALLOWED, DENIED))
        .alias("event.type"),
        pl.lit("Fortinet").alias("observer.vendor"),
        pl.lit("FortiGate").alias("observer.product"),
        pl.coalesce(col("devname"), col("syslog.hostname")).alias("observer.name"),
        col("_srcip").alias("source.ip"),
        pl.when(ported).then(col("_sport")).alias("source.port"),
        sent.alias("source.bytes"),
        col("_dstip").alias("destination.ip"),
        pl.when(ported).then(col("_dport")).alias("destination.port"),
        received.alias("destination.bytes"),
        col("_transport").alias("network.transport"),
        # Named services are protocols ("https", "dns"); "tcp/8080" or "ALL" say nothing.
        pl.when(service.str.contains(r"^[a-z][a-z0-9-]*$") & (service != "all"))
        .then(service)
        .when(kind == "dns")
        .then(pl.lit("dns"))
        .otherwise(col("_ui_protocol"))
        .alias("network.protocol"),
        pl.when(sent.is_not_null() | received.is_not_null())
        .then(sent.fill_null(0) + received.fill_null(0))
        .alias("network.bytes"),
        col("url.full"),
        col("url.domain"),
        col("url.path"),
        domain(col("qname")).alias("dns.question.name"),
        col("qtype").str.to_uppercase().alias("dns.question.type"),
        pl.coalesce(col("policyname"), col("policyid")).alias("rule.name"),
        *(col(name) for name in _READ_WHERE),
        col("catdesc").alias("url.category"),
        col(ORIGINAL),
    ]


# The schema's fields set on the lines that carry them (``derive_where``), as they are.
_READ_WHERE = (
    "event.category",
    "event.outcome",
    "source.nat.ip",
    "source.nat.port",
    "destination.nat.ip",
    "destination.nat.port",
    "user.name",
    "destination.user.name",
    "threat.name",
    "threat.id",
    "threat.category",
    "threat.severity",
    "network.application",
    "network.application_risk",
)


_SNIFF_LOGID = re.compile(r'(?:^|[ >])logid="?[0-9]{10}"?(?: |$)')
_SNIFF_TYPE = re.compile(r'(?:^|[ >])type="?(?:traffic|utm|event|anomaly)"?(?: |$)')


def _sniff(lines: list[str]) -> bool:
    hits = sum(1 for line in lines if _SNIFF_LOGID.search(line) and _SNIFF_TYPE.search(line))
    return bool(lines) and hits >= max(1.0, len(lines) / 2)


@cache
def _kind() -> pl.Expr:
    """Return which kind of record a line is (its dataset), null for records not read."""
    col = pl.col
    kind_type, subtype = col("type"), col("subtype")
    return (
        pl.when(kind_type == "traffic")
        .then(pl.lit("traffic"))
        .when((kind_type == "utm") & subtype.is_in(UTM_SUBTYPES))
        .then(subtype)
        .when(kind_type == "anomaly")
        .then(pl.lit("anomaly"))
        .when((kind_type == "event") & col("action").str.to_lowercase().is_in(LOGIN_ACTIONS))
        .then(pl.lit("event"))
    )


def parse_fortigate(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse FortiGate key=value lines into the common schema."""
    frame = _read_keys(line_frame(lines))
    col = pl.col
    kind = col("_kind")
    frame = frame.with_columns(_syslog_hosts(frame, ctx.default_year), _kind=_kind())
    fallback_time = col("eventtime").is_null()
    frame = fill_where(frame, fallback_time, _values(("date", "time", "tz")))
    frame = fill_where(frame, fallback_time, _fallback_time(ctx.timezone))
    frame = fill_where(frame, col("policyname").is_null(), _values(("policyid",)))
    frame = _with_web_fields(frame)
    # The DNS filter rates domains: its category is the URL category (``catdesc``, read
    # on web and DNS lines only, is ``url.category``).
    frame = fill_where(frame, kind == "dns", _values(("qname", "qtype", "catdesc")))
    frame = derive_where(
        frame, col(ORIGINAL).str.contains(_CONTEXT), _values(_CONTEXT_KEYS), _context_fields()
    )
    frame = derive_where(
        frame, kind.is_in(list(THREAT_CATEGORIES)), _values(_THREAT_KEYS), _threat_fields()
    )
    frame = derive_where(frame, kind == "event", _values(_LOGIN_KEYS), _login_fields())
    # Event records not read are rejected with what they are.
    frame = fill_where(frame, kind.is_null() & (col("type") == "event"), _values(("logdesc",)))
    return _result(frame)


@cache
def _fallback_time(zone: str) -> dict[str, pl.Expr]:
    """Return ``_local_time`` from ``date=``, ``time=`` and ``tz=`` (lines without eventtime)."""
    col = pl.col
    return {"_local_time": _local_time(col("date"), col("time"), col("tz"), zone)}


@cache
def _web_query() -> tuple[dict[str, pl.Expr], list[pl.Expr]]:
    """Return the web lines' URL and scheme columns, then the fields made of them."""
    col = pl.col
    full, host, path = url_parts(col("_url"), col("_scheme"))
    made = {
        "_url": _web_url(col("url"), col("hostname")),
        "_scheme": _scheme(col("service"), port(col("dstport"))),
    }
    fields = [
        col("hostname"),
        col("url"),
        col("catdesc"),
        full.alias("url.full"),
        pl.coalesce(host, domain(col("hostname"))).alias("url.domain"),
        path.alias("url.path"),
    ]
    return made, fields


def _with_web_fields(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``hostname``, ``url``, ``catdesc`` and the url.* fields, computed on web lines only.

    Web lines are web filter and application control records. One lazy query over
    those lines, the URL and its scheme first made columns: each is read several
    times by ``url_parts``, so each is computed once.
    """
    web = frame.select(pl.col("_kind").is_in(["webfilter", "app-ctrl"]).fill_null(False))
    mask = web.to_series()
    made, fields = _web_query()
    values = (
        frame.lazy()
        .filter(mask)
        .select(ORIGINAL, "service", "dstport")
        .with_columns(**_values(("hostname", "url", "catdesc")))
        .with_columns(**made)
        .select(fields)
        .collect()
    )
    return scatter_rows(frame, mask, values)


PARSER = Parser(
    name="fortigate",
    description=(
        "Fortinet FortiGate key=value syslog: traffic, web filter, DNS, application control, "
        "IPS, antivirus, anomaly, logins"
    ),
    parse=parse_fortigate,
    sniff=_sniff,
)
