"""NCSA combined and common web access logs, as nginx and Apache write them ("nginx").

``client ident user [10/Oct/2000:13:55:36 -0700] "request" status bytes ["referer" "agent"]``.
The request line is taken apart only when it reads ``METHOD target [HTTP/x]``: scanners
send raw bytes or ``-``, and such a line is still an event (with the request kept in
event.original) because the rest of it is valid. The request target is kept intact —
attacks like ``/${jndi:ldap://…}`` live there — in url.full; url.path is the target up
to ``?``. A web server log names no host, so url.domain and destination.port come only
from absolute-form targets (proxies) and CONNECT. A 403 is the server refusing, so it is
event.type ``denied``; other statuses leave it null (a web server is not a firewall).
"""

from __future__ import annotations

import polars as pl

from bastion.boundary.parsers.base import ParseContext, Parser, ParseResult
from bastion.boundary.parsers.fields import integer, null_if_blank
from bastion.boundary.parsers.results import ORIGINAL, REASON, finish, first_failure, line_frame
from bastion.boundary.parsers.sniffing import matcher, mostly
from bastion.boundary.parsers.urls import path_of, with_authority_parts, with_url_parts
from bastion.core.events import LINE_COLUMN

_QUOTED = r'"((?:[^"\\]|\\.)*)"'
_LINE = (
    rf"^(?P<client>\S+) (?P<ident>\S+) (?P<user>.+?) \[(?P<time>[^\]]+)\] "
    rf"{_QUOTED.replace('(', '(?P<request>', 1)} (?P<status>\d{{3}}|-) (?P<bytes>\d+|-)"
    rf"(?: {_QUOTED.replace('(', '(?P<referer>', 1)} {_QUOTED.replace('(', '(?P<agent>', 1)})?"
)
_REQUEST = r"^(?P<method>[A-Za-z][A-Za-z0-9_-]*) (?P<target>.+?)(?: (?P<protocol>HTTP/\S+))?$"


def _unescape(expr: pl.Expr) -> pl.Expr:
    """Undo the ``\\"`` and ``\\\\`` escapes Apache writes inside quoted fields."""
    return expr.str.replace_all(r"\\([\"\\])", "$1")


def _events(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Map the captured fields of access-log lines to the schema."""
    col = pl.col
    # Costly intermediates become columns first (see the fields module's docstring).
    frame = frame.with_columns(
        _unescape(col("request")).str.extract_groups(_REQUEST).alias("_request"),
        col("time")
        .str.to_datetime("%d/%b/%Y:%H:%M:%S %z", strict=False, time_unit="us", time_zone="UTC")
        .alias("@timestamp"),
        integer(col("status"), pl.Int32()).alias("http.response.status_code"),
    ).unnest("_request")
    frame = frame.with_columns(col("method").str.to_uppercase().alias("http.request.method"))
    frame = with_url_parts(frame, "target", "_absolute_")
    frame = with_authority_parts(frame, "target", "_connect_")
    is_connect = col("http.request.method") == "CONNECT"
    checks: list[tuple[pl.Expr, pl.Expr | str]] = [
        (
            col("client").is_null(),
            'nginx: not a combined or common log line (client - user [time] "request" status bytes)',
        ),
        (col("@timestamp").is_null(), "nginx: field 'time' is not like 10/Oct/2000:13:55:36 -0700"),
    ]
    return frame.select(
        col(LINE_COLUMN),
        col(ORIGINAL),
        first_failure(checks).alias(REASON),
        col("@timestamp"),
        pl.lit("nginx.access").alias("event.dataset"),
        pl.when(col("http.response.status_code") == 403).then(pl.lit("denied")).alias("event.type"),
        pl.lit("nginx").alias("observer.vendor"),
        pl.lit("nginx").alias("observer.product"),
        col("client").alias("source.ip"),
        pl.when(is_connect)
        .then(col("_connect_port"))
        .otherwise(col("_absolute_port"))
        .alias("destination.port"),
        integer(col("bytes")).alias("destination.bytes"),
        pl.lit("http").alias("network.protocol"),
        integer(col("bytes")).alias("network.bytes"),
        pl.when(~is_connect).then(col("target")).alias("url.full"),
        pl.when(is_connect)
        .then(col("_connect_domain"))
        .otherwise(col("_absolute_domain"))
        .alias("url.domain"),
        pl.coalesce(col("_absolute_path"), path_of(col("target"))).alias("url.path"),
        null_if_blank(col("http.request.method")).alias("http.request.method"),
        col("http.response.status_code"),
        null_if_blank(_unescape(col("agent")), "-").alias("user_agent.original"),
    )


_sniff_line = matcher(_LINE)


def _sniff(lines: list[str]) -> bool:
    return mostly(lines, _sniff_line)


def parse_webaccess(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse combined or common access-log lines into the common schema."""
    frame = line_frame(lines)
    fields = pl.col(ORIGINAL).str.extract_groups(_LINE)
    # Unnest as a frame step: an expression-level unnest would run the regex once per field.
    split = frame.lazy().select(LINE_COLUMN, ORIGINAL, fields.alias("_fields")).unnest("_fields")
    return finish(_events(split).collect())


PARSER = Parser(
    name="nginx",
    description="NCSA combined/common access log (nginx, Apache)",
    parse=parse_webaccess,
    sniff=_sniff,
)
