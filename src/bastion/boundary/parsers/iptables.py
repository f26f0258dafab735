"""Linux netfilter (iptables, nftables, ufw) kernel log lines ("iptables").

A line is a syslog header, usually the tag ``kernel:``, an optional kernel
uptime ``[12345.678901]``, the rule's log prefix (``DROP-IN``, ``[UFW BLOCK]``,
``IPTables-Dropped:``; may be empty) and ``KEY=value`` fields from ``IN=`` on:
``IN= OUT= MAC= SRC= DST= LEN= … PROTO= SPT= DPT= …``.

The prefix (the rule's tag) may run straight into ``IN=``, as Ubiquiti EdgeOS writes
``[wan-lan-default-D]IN=eth0``. Without brackets or a trailing colon it is
``rule.name`` as written, and lower-case it is ``event.action``. Its verdict comes
from one table, ``VERDICTS``: the first word of the table the tag holds (``DROP``,
``DENY:``, ``[UFW BLOCK]``, ``IPTables-Dropped``, ``ACCEPT``, ``ALLOW`` …; a denying
word wins over an allowing one), else EdgeOS's action letter at its end (``-D`` drop,
``-R`` reject, ``-A`` accept); a tag with none of them (``LOG``, ``FW-IN``) leaves
``event.type`` null: the tag is the administrator's free text, and guessing a verdict
from it would be wrong as often as right.

An ICMP error quotes the packet it answers in brackets
(``PROTO=ICMP TYPE=3 CODE=3 [SRC=… DST=… PROTO=UDP SPT=53 DPT=4000 ]``): every field
is read from the outer packet only, so such a line has no ports. Addresses are
checked: a value that is not an IP address is a reject. Time and host come from the
syslog header (the kernel uptime is not a time of day). IPv6 addresses, which
netfilter writes in full, are shortened to the usual form.
"""

from __future__ import annotations

import re

import polars as pl

from bastion.boundary.parsers.base import ParseContext, Parser, ParseResult, clip
from bastion.boundary.parsers.fields import (
    compress_ipv6,
    integer,
    ip_address,
    not_number,
    pattern_verdict,
    port,
    transport,
)
from bastion.boundary.parsers.results import (
    ORIGINAL,
    Check,
    empty_result,
    fill_where,
    finish_checked,
    line_frame,
)
from bastion.boundary.parsers.sniffing import sniffer
from bastion.boundary.syslog import split_syslog

# What a rule tag means: a word found anywhere in the lower-cased tag ("logdrop" too),
# or EdgeOS's action letter after the last "-" (drop, reject, accept). Else no verdict.
VERDICTS = {
    "drop": "denied",
    "reject": "denied",
    "block": "denied",
    "deny": "denied",
    "denied": "denied",
    "-[dr]$": "denied",
    "accept": "allowed",
    "allow": "allowed",
    "pass": "allowed",
    "-a$": "allowed",
}
_KEYS = ("IN", "OUT", "SRC", "DST", "LEN", "PROTO", "SPT", "DPT")
# Where the fields start: "IN=" at the start, after a space, or right after a "]" tag.
_FIELDS_START = r"(?:^| |\])IN="


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
    )
    # An ICMP error's quoted packet ("[SRC=… SPT=…]") is not this packet: cut it off.
    frame = fill_where(
        frame,
        pl.col("_fields").str.contains(" [", literal=True),
        {"_fields": pl.col("_fields").str.extract(r"^([^\[]*)", 1)},
    ).with_columns(**{key: _value(pl.col("_fields"), key) for key in _KEYS})
    col = pl.col
    frame = frame.with_columns(
        _sport=port(col("SPT")),
        _dport=port(col("DPT")),
        _len=integer(col("LEN"), pl.Int64()),
        _rule=col("_prefix").str.strip_chars(" []:").str.replace_all(r"[\[\]]", ""),
        _src=ip_address(col("SRC")),
        _dst=ip_address(col("DST")),
    )
    frame = frame.with_columns(_action=col("_rule").str.to_lowercase())
    checks: list[Check] = [
        (
            col("_prefix").is_null() | col("SRC").is_null() | col("DST").is_null(),
            "iptables: no netfilter fields (need IN=, SRC= and DST=)",
        ),
        (
            col("_src").is_null() | col("_dst").is_null(),
            pl.format(
                "iptables: SRC={} or DST={} is not an IP address",
                clip(col("SRC")),
                clip(col("DST")),
            ),
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
        pattern_verdict(col("_action"), VERDICTS).alias("event.type"),
        pl.lit("Linux").alias("observer.vendor"),
        pl.lit("netfilter").alias("observer.product"),
        col("syslog.hostname").alias("observer.name"),
        col("_src").alias("source.ip"),
        col("_sport").alias("source.port"),
        col("_dst").alias("destination.ip"),
        col("_dport").alias("destination.port"),
        transport(col("PROTO")).alias("network.transport"),
        col("_len").alias("network.bytes"),
        pl.when(col("_rule").str.len_bytes() > 0).then(col("_rule")).alias("rule.name"),
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
