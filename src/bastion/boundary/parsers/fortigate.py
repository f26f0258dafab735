"""Fortinet FortiGate (FortiOS 6/7) key=value syslog ("fortigate").

A line is an optional syslog header (often just ``<189>``) and ``key=value``
pairs in any order; text values are double-quoted (``devname="fw 1"``),
numbers and addresses may be bare. Read: ``type=traffic`` (any subtype),
``type=utm subtype=webfilter`` and ``type=utm subtype=dns``; other log types
are rejected with their type and subtype named.

Time is ``eventtime=`` (epoch in s, ms, µs or ns, told apart by its digits)
or else ``date=`` + ``time=`` in the device's zone ``tz=`` (UTC without it).

Each wanted key is one regex pass over the column, which beats extracting every
pair once and picking keys from the lists (docs/parsers.md has the figures). Keys
FortiOS writes side by side (srcip srcport, …) share a pass, with a per-key pass
where a line has them apart; keys only some lines need (fallback time, URL, DNS
question) are read on those lines only.
"""

from __future__ import annotations

import re

import polars as pl

from bastion.boundary.parsers.base import ParseContext, Parser, ParseResult, clip
from bastion.boundary.parsers.fields import domain, integer, not_number, port, transport, verdict
from bastion.boundary.parsers.results import (
    ORIGINAL,
    Check,
    fill_where,
    finish_checked,
    line_frame,
    scatter_rows,
)
from bastion.boundary.parsers.urls import url_parts
from bastion.boundary.syslog import split_syslog

ALLOWED = ["accept", "close", "timeout", "server-rst", "client-rst", "start", "pass", "passthrough"]
DENIED = ["deny", "blocked", "block", "dropped", "drop", "reset", "redirect"]

# A key starts the line, follows the <PRI> or follows a space.
_KEY_START = "(?:^|[ >])"
# A text value may be quoted and hold spaces and \\" escapes; other values are one word.
_TEXT_VALUE = r'(?:"(?:[^"\\]|\\.)+"|[^ "][^ ]*)'
_TEXT_KEYS = frozenset({"devname", "service", "policyname", "hostname", "url", "qname"})


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


def _values(keys: list[str]) -> dict[str, pl.Expr]:
    return {key: _value(pl.col(ORIGINAL), key) for key in keys}


# FortiOS writes these keys side by side; one regex pass reads both. Where a line
# has them apart (or lacks them), each is then looked for on its own.
_PAIRS = (("type", "subtype"), ("srcip", "srcport"), ("dstip", "dstport"), ("sentbyte", "rcvdbyte"))
_SINGLES = ("eventtime", "devname", "proto", "service", "action", "policyname")


def _read_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """Add a column per wanted key (pairs first, then the keys read one by one)."""
    line = pl.col(ORIGINAL)
    pairs = [
        line.str.extract_groups(
            f'{_KEY_START}{first}="?(?P<{first}>[^ "]+)"? {second}="?(?P<{second}>[^ "]+)'
        ).alias(f"_{first}")
        for first, second in _PAIRS
    ]
    frame = frame.with_columns(pairs).unnest([f"_{first}" for first, _ in _PAIRS])
    frame = frame.with_columns(**_values(list(_SINGLES)))
    for first, second in _PAIRS:
        frame = fill_where(frame, pl.col(first).is_null(), _values([first, second]))
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
    """Return the minutes east of UTC of ``+hhmm``/``-hh:mm``; 0 when absent, null when unreadable."""
    compact = tz.str.replace(":", "", literal=True)
    sign = pl.when(compact.str.starts_with("-")).then(-1).otherwise(1)
    hours = integer(compact.str.slice(1, 2), pl.Int64())
    minutes = integer(compact.str.slice(3, 2), pl.Int64())
    offset = pl.when(compact.str.contains(r"^[+-][0-9]{4}$")).then(sign * (hours * 60 + minutes))
    return pl.when(tz.is_null()).then(0).otherwise(offset)


def _local_time(date: pl.Expr, time: pl.Expr, tz: pl.Expr) -> pl.Expr:
    """Return the UTC time of ``date=`` ``time=`` read in the zone ``tz=``."""
    local = pl.concat_str([date, pl.lit(" "), time]).str.strptime(
        pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False
    )
    utc = local - pl.duration(minutes=_tz_minutes(tz))
    return utc.dt.replace_time_zone("UTC")


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


def _result(frame: pl.DataFrame) -> ParseResult:
    """Check the extracted key values of ``frame`` and map the good lines to the schema."""
    col = pl.col
    kind = col("_kind")
    frame = frame.with_columns(
        _time=pl.coalesce(_epoch(col("eventtime")), col("_local_time")),
        _sport=port(col("srcport")),
        _dport=port(col("dstport")),
        _sent=integer(col("sentbyte"), pl.Int64()),
        _received=integer(col("rcvdbyte"), pl.Int64()),
    )
    checks: list[Check] = [
        (col("type").is_null(), "fortigate: no type= field; not a FortiGate key=value log"),
        (
            kind.is_null(),
            pl.format(
                "fortigate: type={} subtype={} is not supported "
                "(read: traffic, utm webfilter, utm dns)",
                clip(col("type")),
                clip(col("subtype").fill_null("(none)")),
            ),
        ),
        (
            not_number(col("eventtime"), integer(col("eventtime"), pl.Int64())),
            pl.format("fortigate: eventtime={} is not an epoch number", clip(col("eventtime"))),
        ),
        (
            col("_time").is_null(),
            pl.format(
                "fortigate: no usable time (date={} time={} tz={}); "
                "need eventtime= or date=YYYY-MM-DD time=hh:mm:ss [tz=+hhmm]",
                clip(col("date").fill_null("(none)")),
                clip(col("time").fill_null("(none)")),
                clip(col("tz").fill_null("(none)")),
            ),
        ),
    ]
    checks += [
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
    action = col("action").str.to_lowercase()
    service = col("service").str.to_lowercase()
    sent, received = col("_sent"), col("_received")
    fields = [
        col("_time").alias("@timestamp"),
        (pl.lit("fortigate.") + kind).alias("event.dataset"),
        action.alias("event.action"),
        verdict(col("action"), ALLOWED, DENIED).alias("event.type"),
        pl.lit("Fortinet").alias("observer.vendor"),
        pl.lit("FortiGate").alias("observer.product"),
        pl.coalesce(col("devname"), col("syslog.hostname")).alias("observer.name"),
        col("srcip").str.to_lowercase().alias("source.ip"),
        col("_sport").alias("source.port"),
        sent.alias("source.bytes"),
        col("dstip").str.to_lowercase().alias("destination.ip"),
        col("_dport").alias("destination.port"),
        received.alias("destination.bytes"),
        transport(col("proto")).alias("network.transport"),
        # Named services are protocols ("https", "dns"); "tcp/8080" or "ALL" say nothing.
        pl.when(service.str.contains(r"^[a-z][a-z0-9-]*$") & (service != "all"))
        .then(service)
        .when(kind == "dns")
        .then(pl.lit("dns"))
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
        col(ORIGINAL),
    ]
    return finish_checked(frame, checks, fields)


_SNIFF_LOGID = re.compile(r'(?:^|[ >])logid="?[0-9]{10}"?(?: |$)')
_SNIFF_TYPE = re.compile(r'(?:^|[ >])type="?(?:traffic|utm|event|anomaly)"?(?: |$)')


def _sniff(lines: list[str]) -> bool:
    hits = sum(1 for line in lines if _SNIFF_LOGID.search(line) and _SNIFF_TYPE.search(line))
    return bool(lines) and hits >= max(1.0, len(lines) / 2)


def parse_fortigate(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse FortiGate key=value lines into the common schema."""
    frame = _read_keys(line_frame(lines))
    col = pl.col
    frame = frame.with_columns(_syslog_hosts(frame, ctx.default_year))
    frame = frame.with_columns(
        _kind=pl.when(col("type") == "traffic")
        .then(pl.lit("traffic"))
        .when((col("type") == "utm") & col("subtype").is_in(["webfilter", "dns"]))
        .then(col("subtype"))
    )
    frame = fill_where(frame, col("eventtime").is_null(), _values(["date", "time", "tz"]))
    frame = fill_where(
        frame,
        col("eventtime").is_null(),
        {"_local_time": _local_time(col("date"), col("time"), col("tz"))},
    )
    frame = fill_where(frame, col("policyname").is_null(), _values(["policyid"]))
    frame = _with_web_fields(frame)
    frame = fill_where(frame, col("_kind") == "dns", _values(["qname", "qtype"]))
    return _result(frame)


def _with_web_fields(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``hostname``, ``url`` and the url.* fields, computed on web filter lines only.

    One lazy query over those lines, the URL and its scheme first made columns: each is
    read several times by ``url_parts``, so each is computed once.
    """
    col = pl.col
    web = frame.select((col("_kind") == "webfilter").fill_null(False)).to_series()
    full, host, path = url_parts(col("_url"), col("_scheme"))
    values = (
        frame.lazy()
        .filter(web)
        .select(ORIGINAL, "service", "dstport")
        .with_columns(**_values(["hostname", "url"]))
        .with_columns(
            _url=_web_url(col("url"), col("hostname")),
            _scheme=_scheme(col("service"), port(col("dstport"))),
        )
        .select(
            "hostname",
            "url",
            full.alias("url.full"),
            pl.coalesce(host, domain(col("hostname"))).alias("url.domain"),
            path.alias("url.path"),
        )
        .collect()
    )
    return scatter_rows(frame, web, values)


PARSER = Parser(
    name="fortigate",
    description="Fortinet FortiGate key=value syslog: traffic, web filter, DNS",
    parse=parse_fortigate,
    sniff=_sniff,
)
