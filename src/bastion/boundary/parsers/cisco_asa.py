"""Cisco ASA (and Firepower Threat Defense) syslog messages ("cisco-asa").

A line is an optional syslog header (ASA writes ``Nov 25 2026 13:01:02 asa01 :``
when ``logging timestamp`` and ``logging device-id`` are on) and a message
``%ASA-<level>-<id>: <text>``. Read, one pattern per family of ids, each applied
with ``str.extract_groups`` on the rows of those ids only:

- 302013/302015 Built inbound|outbound TCP|UDP connection; 302014/302016 Teardown
- 106023 Deny … by access-group; 106001, 106006, 106015 inbound denies
- 106100 access-list permitted|denied|est-allowed; 710003 TCP|UDP access denied by ACL

Other ids are rejected, named. Time and host come from the syslog header only:
a line without one (``logging timestamp`` off) has no ``@timestamp``.

Which side started a connection: a Built message says (inbound: the ``for`` side;
outbound: the ``to`` side). A Teardown message does not; the side on the lower
port is taken as the server, the usual reading of a client/server connection.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from bastion.boundary.parsers.base import ParseContext, Parser, ParseResult, clip
from bastion.boundary.parsers.fields import integer, not_number, port, transport, verdict
from bastion.boundary.parsers.results import (
    ORIGINAL,
    Check,
    empty_result,
    finish_checked,
    line_frame,
)
from bastion.boundary.parsers.sniffing import sniffer
from bastion.boundary.syslog import split_syslog

ALLOWED = ["built", "teardown", "permitted", "est-allowed"]
DENIED = ["deny", "denied"]

_IF = r"[A-Za-z0-9_.-]+"  # an interface's nameif
_IP = r"[0-9A-Fa-f.:]+"
_USER = r"(?: ?\([^)]*\))*"  # identity-firewall user or FQDN groups after an address
_TAG = r"%(?:ASA|FTD)-[0-7]-[0-9]{6}:"
_GROUPS = ("proto", "a_ip", "a_port", "b_ip", "b_port", "dir", "bytes", "acl", "verb")


@dataclass(frozen=True)
class Family:
    """Message ids sharing one layout; ``a``/``b`` are the first and second address in it."""

    ids: tuple[str, ...]
    pattern: str
    layout: str  # the layout, for the reject reason when a message does not follow it
    action: str | None = None  # the device's word when the pattern has no ``verb`` group


FAMILIES = (
    Family(
        ("302013", "302015"),
        rf"^Built (?P<dir>inbound|outbound) (?P<proto>TCP|UDP) connection [0-9]+ for "
        rf"{_IF}:(?P<a_ip>{_IP})/(?P<a_port>[0-9]+) \({_IP}/[0-9]+\){_USER} to "
        rf"{_IF}:(?P<b_ip>{_IP})/(?P<b_port>[0-9]+) \({_IP}/[0-9]+\)",
        "Built inbound|outbound TCP|UDP connection ID for IF:IP/PORT (IP/PORT) to IF:IP/PORT (IP/PORT)",
        "built",
    ),
    Family(
        ("302014", "302016"),
        rf"^Teardown (?P<proto>TCP|UDP) connection [0-9]+ for "
        rf"{_IF}:(?P<a_ip>{_IP})/(?P<a_port>[0-9]+){_USER} to "
        rf"{_IF}:(?P<b_ip>{_IP})/(?P<b_port>[0-9]+){_USER} duration "
        r"[0-9]+:[0-9]{2}:[0-9]{2} bytes (?P<bytes>[0-9]+)",
        "Teardown TCP|UDP connection ID for IF:IP/PORT to IF:IP/PORT duration H:MM:SS bytes N",
        "teardown",
    ),
    Family(
        ("106023",),
        rf"^Deny (?P<proto>[A-Za-z0-9-]+) src {_IF}:(?P<a_ip>{_IP})(?:/(?P<a_port>[0-9]+))?{_USER}"
        rf" dst {_IF}:(?P<b_ip>{_IP})(?:/(?P<b_port>[0-9]+))?{_USER}"
        r'(?: \(type [0-9]+, code [0-9]+\))? by access-group "(?P<acl>[^"]*)"',
        'Deny PROTO src IF:IP[/PORT] dst IF:IP[/PORT] by access-group "ACL"',
        "deny",
    ),
    Family(
        ("106001",),
        rf"^Inbound (?P<proto>TCP|UDP) connection denied from (?P<a_ip>{_IP})/(?P<a_port>[0-9]+)"
        rf" to (?P<b_ip>{_IP})/(?P<b_port>[0-9]+) ",
        "Inbound TCP connection denied from IP/PORT to IP/PORT flags FLAGS on interface IF",
        "denied",
    ),
    Family(
        ("106006",),
        rf"^Deny inbound (?P<proto>UDP|TCP) from (?P<a_ip>{_IP})/(?P<a_port>[0-9]+)"
        rf" to (?P<b_ip>{_IP})/(?P<b_port>[0-9]+)",
        "Deny inbound UDP from IP/PORT to IP/PORT on interface IF",
        "deny",
    ),
    Family(
        ("106015",),
        rf"^Deny (?P<proto>TCP|UDP) \(no connection\) from (?P<a_ip>{_IP})/(?P<a_port>[0-9]+)"
        rf" to (?P<b_ip>{_IP})/(?P<b_port>[0-9]+)",
        "Deny TCP (no connection) from IP/PORT to IP/PORT flags FLAGS on interface IF",
        "deny",
    ),
    Family(
        ("106100",),
        rf"^access-list (?P<acl>[^ ]+) (?P<verb>permitted|denied|est-allowed) "
        rf"(?P<proto>[A-Za-z0-9-]+) {_IF}/(?P<a_ip>{_IP})\((?P<a_port>[0-9]+)\){_USER} -> "
        rf"{_IF}/(?P<b_ip>{_IP})\((?P<b_port>[0-9]+)\)",
        "access-list ACL permitted|denied|est-allowed PROTO IF/IP(PORT) -> IF/IP(PORT)",
    ),
    Family(
        ("710003",),
        rf"^(?P<proto>TCP|UDP) access denied by ACL from (?P<a_ip>{_IP})/(?P<a_port>[0-9]+) to "
        rf"{_IF}:(?P<b_ip>{_IP})/(?:(?P<b_port>[0-9]+)|[A-Za-z-]+)",
        "TCP|UDP access denied by ACL from IP/PORT to IF:IP/PORT",
        "denied",
    ),
)
SUPPORTED = sorted(i for family in FAMILIES for i in family.ids)


def _fields(frame: pl.DataFrame, family: Family) -> pl.DataFrame:
    """Add the canonical groups of ``family``'s pattern (null when it has no such group)."""
    found = frame.select(pl.col("_text").str.extract_groups(family.pattern).alias("_m"))
    found = found.unnest("_m")
    groups = [
        (
            found.get_column(g)
            if g in found.columns
            else pl.repeat(None, frame.height, dtype=pl.String, eager=True)
        ).alias(g)
        for g in _GROUPS
    ]
    frame = frame.with_columns(groups)
    # Materialised, not pl.lit: a broadcast literal column trips Polars 1.44 in pl.format.
    if family.action is not None:
        frame = frame.with_columns(pl.repeat(family.action, frame.height, eager=True).alias("verb"))
    return frame.with_columns(
        pl.repeat(family.ids[0], frame.height, eager=True).alias("_family"),
        pl.repeat(family.layout, frame.height, eager=True).alias("_layout"),
    )


def _result(frame: pl.DataFrame) -> ParseResult:
    """Check the extracted groups and map the good messages to the schema."""
    col = pl.col
    a_port, b_port = port(col("a_port")), port(col("b_port"))
    family = col("_family")
    # True where the second address is the connection's source (see the module docstring).
    second_is_source = (
        pl.when(family == "302013")
        .then(col("dir") == "outbound")
        .when(family == "302014")
        .then(a_port <= b_port)
        .otherwise(pl.lit(False))
    )
    frame = frame.with_columns(
        _swap=second_is_source.fill_null(False), _a_port=a_port, _b_port=b_port
    )
    swap = col("_swap")
    tag = clip(pl.format("%{}-{}-{}", col("_product"), col("_level"), col("_id")))
    checks: list[Check] = [
        (col("_id").is_null(), "cisco-asa: no %ASA-<level>-<id>: message id in the line"),
        (col("_family").is_null(), pl.format("cisco-asa: message {} not supported", tag)),
        (
            col("a_ip").is_null(),
            pl.format("cisco-asa: message {} does not have the layout '{}'", tag, col("_layout")),
        ),
        (
            not_number(col("a_port"), col("_a_port")) | not_number(col("b_port"), col("_b_port")),
            pl.format(
                "cisco-asa: port {} or {} is not a port number",
                clip(col("a_port")),
                clip(col("b_port")),
            ),
        ),
    ]
    verb = col("verb").str.to_lowercase()
    fields = [
        col("syslog.timestamp").alias("@timestamp"),
        pl.lit("cisco.asa").alias("event.dataset"),
        verb.alias("event.action"),
        verdict(col("verb"), ALLOWED, DENIED).alias("event.type"),
        pl.lit("Cisco").alias("observer.vendor"),
        col("_product").alias("observer.product"),
        col("syslog.hostname").alias("observer.name"),
        pl.when(swap).then(col("b_ip")).otherwise(col("a_ip")).alias("source.ip"),
        pl.when(swap).then(col("_b_port")).otherwise(col("_a_port")).alias("source.port"),
        pl.when(swap).then(col("a_ip")).otherwise(col("b_ip")).alias("destination.ip"),
        pl.when(swap).then(col("_a_port")).otherwise(col("_b_port")).alias("destination.port"),
        transport(col("proto")).alias("network.transport"),
        integer(col("bytes"), pl.Int64()).alias("network.bytes"),
        col("acl").alias("rule.name"),
        col(ORIGINAL),
    ]
    return finish_checked(frame, checks, fields)


_sniff = sniffer(_TAG)


def parse_cisco_asa(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse Cisco ASA messages into the common schema."""
    frame = line_frame(lines)
    header = split_syslog(frame.get_column(ORIGINAL), ctx.default_year)
    message = header.get_column("message")
    tag = message.str.extract(_TAG, 0)
    frame = frame.with_columns(
        header.get_column("syslog.timestamp"),
        header.get_column("syslog.hostname"),
        tag.str.slice(1, 3).alias("_product"),
        tag.str.slice(5, 1).alias("_level"),
        tag.str.slice(7, 6).alias("_id"),
        message.str.replace(f"^.*?{_TAG} ?", "").alias("_text"),
    )
    if not frame.height:
        return empty_result()
    parts = [
        _fields(rows, family)
        for family in FAMILIES
        if (rows := frame.filter(pl.col("_id").is_in(family.ids))).height
    ]
    parts.append(frame.filter(~pl.col("_id").is_in(SUPPORTED) | pl.col("_id").is_null()))
    # One chunk per column: pl.format over columns chunked differently panics in Polars 1.44.
    frame = pl.concat(parts, how="diagonal_relaxed", rechunk=True)
    # A batch with no supported message has none of the family's columns: they are null.
    missing = [g for g in (*_GROUPS, "_family", "_layout") if g not in frame.columns]
    frame = frame.with_columns(
        pl.repeat(None, frame.height, dtype=pl.String, eager=True).alias(g) for g in missing
    )
    return _result(frame)


PARSER = Parser(
    name="cisco-asa",
    description="Cisco ASA/FTD syslog: connections built and torn down, ACL denies",
    parse=parse_cisco_asa,
    sniff=_sniff,
)
