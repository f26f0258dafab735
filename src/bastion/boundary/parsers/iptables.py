"""Linux netfilter (iptables, nftables, ufw) kernel log lines ("iptables").

A line is a syslog header, usually the tag ``kernel:``, an optional kernel
uptime ``[12345.678901]``, the rule's log prefix (``DROP-IN``, ``[UFW BLOCK]``,
``IPTables-Dropped:``; may be empty) and ``KEY=value`` fields from ``IN=`` on:
``IN= OUT= MAC= SRC= DST= LEN= … PROTO= SPT= DPT= …``.

The prefix, lower-case and without brackets or a trailing colon, is
``event.action``; it says "denied" when it holds drop, reject, block or deny and
"allowed" when it holds accept, allow or pass. Time and host come from the syslog
header (the kernel uptime is not a time of day). IPv6 addresses, which netfilter
writes in full, are shortened to the usual form.
"""

from __future__ import annotations

import re

import polars as pl

from bastion.boundary.parsers.base import ParseContext, Parser, ParseResult, clip
from bastion.boundary.parsers.fields import compress_ipv6, integer, not_number, port, transport
from bastion.boundary.parsers.results import (
    ORIGINAL,
    Check,
    empty_result,
    finish_checked,
    line_frame,
)
from bastion.boundary.parsers.sniffing import sniffer
from bastion.boundary.syslog import split_syslog

_DENY_WORDS = r"drop|reject|block|deny"
_ALLOW_WORDS = r"accept|allow|pass"
_KEYS = ("IN", "OUT", "SRC", "DST", "LEN", "PROTO", "SPT", "DPT")
# Where the fields start: "IN=" at the start or after a space.
_FIELDS_START = r"(?:^| )IN="


def _value(fields: pl.Expr, key: str) -> pl.Expr:
    """Return the value of `` KEY=`` (null when absent or empty)."""
    return fields.str.extract(f" {re.escape(key)}=([^ ]+)", 1)


def parse_iptables(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse netfilter log lines into the common schema."""
    frame = line_frame(lines)
    if not frame.height:
        return empty_result()
    header = split_syslog(
        frame.get_column(ORIGINAL), ctx.default_year, timezone=ctx.timezone, received=ctx.received
    )
    message = header.get_column("message")
    before = message.str.extract(f"^(.*?){_FIELDS_START}", 1)
    frame = frame.with_columns(
        header.get_column("syslog.timestamp"),
        header.get_column("syslog.hostname"),
        # The prefix lies between the kernel uptime (if any) and the fields.
        before.str.replace(r"^ *\[ *[0-9]+\.[0-9]+\] *", "").str.strip_chars(" ").alias("_prefix"),
        # A leading space lets every key, IN= too, be found as " KEY=".
        pl.concat_str([pl.lit(" "), message.str.slice(before.str.len_chars())]).alias("_fields"),
    ).with_columns(**{key: _value(pl.col("_fields"), key) for key in _KEYS})
    col = pl.col
    frame = frame.with_columns(
        _sport=port(col("SPT")),
        _dport=port(col("DPT")),
        _len=integer(col("LEN"), pl.Int64()),
        _action=col("_prefix")
        .str.to_lowercase()
        .str.strip_chars(" []:")
        .str.replace_all(r"[\[\]]", ""),
    )
    checks: list[Check] = [
        (
            col("_prefix").is_null() | col("SRC").is_null() | col("DST").is_null(),
            "iptables: no netfilter fields (need IN=, SRC= and DST=)",
        ),
        (
            not_number(col("SPT"), col("_sport")),
            pl.format("iptables: SPT={} is not a port", clip(col("SPT"))),
        ),
        (
            not_number(col("DPT"), col("_dport")),
            pl.format("iptables: DPT={} is not a port", clip(col("DPT"))),
        ),
        (
            not_number(col("LEN"), col("_len")),
            pl.format("iptables: LEN={} is not a number", clip(col("LEN"))),
        ),
    ]
    action = pl.when(col("_action").str.len_bytes() > 0).then(col("_action"))
    fields = [
        col("syslog.timestamp").alias("@timestamp"),
        pl.lit("iptables").alias("event.dataset"),
        action.alias("event.action"),
        pl.when(action.str.contains(_DENY_WORDS))
        .then(pl.lit("denied"))
        .when(action.str.contains(_ALLOW_WORDS))
        .then(pl.lit("allowed"))
        .alias("event.type"),
        pl.lit("Linux").alias("observer.vendor"),
        pl.lit("netfilter").alias("observer.product"),
        col("syslog.hostname").alias("observer.name"),
        col("SRC").str.to_lowercase().alias("source.ip"),
        col("_sport").alias("source.port"),
        col("DST").str.to_lowercase().alias("destination.ip"),
        col("_dport").alias("destination.port"),
        transport(col("PROTO")).alias("network.transport"),
        col("_len").alias("network.bytes"),
        col(ORIGINAL),
    ]
    result = finish_checked(frame, checks, fields)
    events = result.events.with_columns(
        compress_ipv6(result.events.get_column("source.ip")),
        compress_ipv6(result.events.get_column("destination.ip")),
    )
    return ParseResult(events, result.rejects)


PARSER = Parser(
    name="iptables",
    description="Linux netfilter kernel log lines (iptables, nftables, ufw)",
    parse=parse_iptables,
    sniff=sniffer(r"(?:^| )IN=[^ ]* OUT=[^ ]* .*SRC=[^ ]+ DST=[^ ]+ "),
)
