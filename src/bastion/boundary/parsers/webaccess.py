"""NCSA combined and common web access logs, as nginx and Apache write them ("nginx").

``client ident user [10/Oct/2000:13:55:36 -0700] "request" status bytes ["referer" "agent"]``.
The request line is taken apart only when it reads ``METHOD target [HTTP/x]``: scanners
send raw bytes or ``-``, and such a line is still an event (with the request kept in
event.original) because the rest of it is valid. The request target is kept intact —
attacks like ``/${jndi:ldap://…}`` live there — in url.full; url.path is the target up
to ``?``. url.domain and destination.port come from absolute-form targets (proxies)
and CONNECT, else from the virtual host a line may start with: nginx's ``$host`` and
Apache's ``%v``/``%v:%p`` formats write ``host[:port] client ident user [time] …``. Such
a line is told from a plain one by its second field being an IP address (a plain
line's second field is the ident, ``-``) or its first being ``host:port``; its server
goes to url.domain (a name) or destination.ip (an address), its port to
destination.port. The client is source.ip only when it is an IP address: a name (Apache
``HostnameLookups``) is never put in an address column. A 403 is the server refusing,
so it is event.type ``denied``; other statuses leave it null (a web server is not a
firewall).
"""

from __future__ import annotations

import polars as pl

from bastion.boundary.parsers.base import ParseContext, Parser, ParseResult
from bastion.boundary.parsers.fields import domain, integer, ip_address, null_if_blank, port
from bastion.boundary.parsers.results import (
    ORIGINAL,
    checked,
    finish,
    line_frame,
)
from bastion.boundary.parsers.sniffing import sniffer
from bastion.boundary.parsers.urls import path_of, with_authority_parts, with_url_parts
from bastion.core.events import LINE_COLUMN

_QUOTED = r'"((?:[^"\\]|\\.)*)"'
_LINE = (
    rf"^(?P<client>\S+) (?P<ident>\S+) (?P<user>.+?) \[(?P<time>[^\]]+)\] "
    rf"{_QUOTED.replace('(', '(?P<request>', 1)} (?P<status>\d{{3}}|-) (?P<bytes>\d+|-)"
    rf"(?: {_QUOTED.replace('(', '(?P<referer>', 1)} {_QUOTED.replace('(', '(?P<agent>', 1)})?"
)
_PORT = r":[0-9]{1,5}$"
# A virtual host: a name, an address, or a bracketed IPv6 address, and an optional port.
_VHOST = r"^(?P<_server_host>\[[^\]]*\]|[^:]+|[0-9A-Fa-f:]+)(?::(?P<_server_port>[0-9]{1,5}))?$"
_REQUEST = r"^(?P<method>[A-Za-z][A-Za-z0-9_-]*) (?P<target>.+?)(?: (?P<protocol>HTTP/\S+))?$"


def _unescape(expr: pl.Expr) -> pl.Expr:
    """Undo the ``\\"`` and ``\\\\`` escapes Apache writes inside quoted fields."""
    return expr.str.replace_all(r"\\([\"\\])", "$1")


def _events(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Map the captured fields of access-log lines to the schema."""
    col = pl.col
    # A virtual-host line read as a plain one has the host as client, the client as ident
    # and "ident user" as user: a plain line's ident is "-" (see the module docstring).
    # Only lines whose ident is not "-" (few) are tested further: the others' values are
    # made null first, so the tests' regexes do not run over every line.
    maybe = col("ident") != "-"
    ident, client = pl.when(maybe).then(col("ident")), pl.when(maybe).then(col("client"))
    frame = frame.with_columns(
        _vhost=(
            maybe
            & (ident.str.contains(r"^[0-9A-Fa-f:.]+$") | client.str.contains(_PORT))
            & pl.when(maybe).then(col("user")).str.contains(" ", literal=True)
        ).fill_null(False)
    )
    # Costly intermediates become columns first (see the fields module's docstring).
    frame = frame.with_columns(
        _unescape(col("request")).str.extract_groups(_REQUEST).alias("_request"),
        col("time")
        .str.to_datetime("%d/%b/%Y:%H:%M:%S %z", strict=False, time_unit="us", time_zone="UTC")
        .alias("@timestamp"),
        integer(col("status"), pl.Int32()).alias("http.response.status_code"),
    ).unnest("_request")
    frame = frame.with_columns(
        col("method").str.to_uppercase().alias("http.request.method"),
        pl.when(col("_vhost")).then(col("ident")).otherwise(col("client")).alias("_client"),
        pl.when(col("_vhost")).then(col("client")).str.extract_groups(_VHOST).alias("_server"),
        pl.when(col("_vhost"))
        .then(col("user"))
        .str.replace(r"^\S+ ", "")
        .fill_null(col("user"))
        .alias("_user"),
    ).unnest("_server")
    frame = frame.with_columns(
        _server_ip=ip_address(col("_server_host").str.strip_prefix("[").str.strip_suffix("]")),
        _server_port=port(col("_server_port")),
    )
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
        *checked(checks),
        col("@timestamp"),
        pl.lit("nginx.access").alias("event.dataset"),
        pl.when(col("http.response.status_code") == 403).then(pl.lit("denied")).alias("event.type"),
        pl.lit("nginx").alias("observer.vendor"),
        pl.lit("nginx").alias("observer.product"),
        ip_address(col("_client")).alias("source.ip"),
        col("_server_ip").alias("destination.ip"),
        pl.when(is_connect)
        .then(col("_connect_port"))
        .otherwise(col("_absolute_port"))
        .fill_null(col("_server_port"))
        .alias("destination.port"),
        integer(col("bytes")).alias("destination.bytes"),
        pl.lit("http").alias("network.protocol"),
        integer(col("bytes")).alias("network.bytes"),
        pl.when(~is_connect).then(col("target")).alias("url.full"),
        pl.when(is_connect)
        .then(col("_connect_domain"))
        .otherwise(col("_absolute_domain"))
        .fill_null(pl.when(col("_server_ip").is_null()).then(domain(col("_server_host"))))
        .alias("url.domain"),
        pl.coalesce(col("_absolute_path"), path_of(col("target"))).alias("url.path"),
        null_if_blank(col("http.request.method")).alias("http.request.method"),
        col("http.response.status_code"),
        null_if_blank(_unescape(col("agent")), "-").alias("user_agent.original"),
        null_if_blank(_unescape(col("referer")), "-").alias("http.request.referrer"),
        null_if_blank(col("_user"), "-").alias("user.name"),
    )


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
    sniff=sniffer(_LINE, share=0.8),
)
