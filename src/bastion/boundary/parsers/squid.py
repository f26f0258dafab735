"""Squid native access.log ("squid").

``time elapsed client code/status bytes method URL user hierarchy/peer type``, fields
separated by runs of spaces (``elapsed`` is right-aligned). ``elapsed`` is the
milliseconds Squid spent on the request, kept as event.duration (nanoseconds, as ECS
has it; a negative one, which Squid writes when it has no time, is null): the latency
real users met, which ``bastion.slis`` reads. ``bytes`` is what Squid sent to the
client, so it is destination.bytes. A CONNECT's ``host:port`` gives url.domain
and destination.port and no url.full (it is not a URL). The peer address becomes
destination.ip when it is an address; the client is source.ip only when it is an address
(with ``log_fqdn on`` Squid writes a name, which stays in event.original only).
event.type comes from one table, ``VERDICTS``, of the words a result code is made of:
``DENIED`` is ``denied``; ``HIT``, ``MISS``, ``TUNNEL`` and ``REFRESH`` (Squid served or
forwarded the request) are ``allowed``; any other code (``NONE``, ``TAG_NONE`` errors
before any decision, ``TCP_REDIRECT``, codes of a newer Squid) leaves it null.
"""

from __future__ import annotations

import polars as pl

from bastion.boundary.parsers.base import ParseContext, Parser, ParseResult
from bastion.boundary.parsers.fields import (
    epoch_seconds,
    integer,
    ip_address,
    null_if_blank,
    pattern_verdict,
)
from bastion.boundary.parsers.results import (
    ORIGINAL,
    checked,
    finish,
    line_frame,
)
from bastion.boundary.parsers.sniffing import sniffer
from bastion.boundary.parsers.urls import with_authority_parts, with_url_parts
from bastion.core.events import LINE_COLUMN

_FIELDS = ("time", "elapsed", "client", "result", "bytes", "method", "url", "user", "hierarchy")
# The words of a result code (TCP_MEM_HIT, TCP_DENIED_REPLY, …) and the verdict each means.
VERDICTS = {
    "(?:^|_)DENIED(?:_|$)": "denied",
    "(?:^|_)(?:HIT|MISS|TUNNEL|REFRESH)(?:_|$)": "allowed",
}


def _events(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Map split Squid fields to the schema."""
    col = pl.col
    # Costly intermediates become columns first (see the fields module's docstring).
    frame = frame.with_columns(
        col("result").str.extract_groups(r"^(?P<code>[A-Z_]+)/(?P<status>\d{3})$").alias("_r"),
        col("method").str.to_uppercase().alias("_method"),
        integer(col("bytes")).alias("destination.bytes"),
        integer(col("elapsed")).alias("_elapsed"),
        epoch_seconds(col("time")).alias("@timestamp"),
    ).unnest("_r")
    frame = with_url_parts(frame, "url", "_url_")
    frame = with_authority_parts(frame, "url", "_connect_")
    is_connect = col("_method") == "CONNECT"
    peer = col("hierarchy").str.extract(r"/(.*)$", 1)
    found = pl.concat_str(
        [pl.lit("squid: expected 10 space-separated fields, found "), col("_found").cast(pl.String)]
    )
    checks: list[tuple[pl.Expr, pl.Expr | str]] = [
        (col("type").is_null(), found),
        (~col("time").str.contains(r"^\d+(?:\.\d+)?$"), "squid: field 'time' is not epoch seconds"),
        (col("code").is_null(), "squid: field 'code/status' is not like TCP_MISS/200"),
        (col("destination.bytes").is_null(), "squid: field 'bytes' is not a count"),
    ]
    return frame.select(
        *checked(checks),
        col("@timestamp"),
        pl.lit("squid.access").alias("event.dataset"),
        col("code").str.to_lowercase().alias("event.action"),
        pattern_verdict(col("code"), VERDICTS).alias("event.type"),
        pl.lit("squid").alias("observer.vendor"),
        pl.lit("squid").alias("observer.product"),
        ip_address(col("client")).alias("source.ip"),
        ip_address(peer).alias("destination.ip"),
        pl.when(is_connect)
        .then(col("_connect_port"))
        .otherwise(col("_url_port"))
        .alias("destination.port"),
        col("destination.bytes"),
        pl.lit("http").alias("network.protocol"),
        col("destination.bytes").alias("network.bytes"),
        pl.when(~is_connect).then(null_if_blank(col("url"), "-")).alias("url.full"),
        pl.when(is_connect)
        .then(col("_connect_domain"))
        .otherwise(col("_url_domain"))
        .alias("url.domain"),
        pl.when(~is_connect).then(col("_url_path")).alias("url.path"),
        null_if_blank(col("_method"), "-", "NONE").alias("http.request.method"),
        integer(col("status"), pl.Int32()).alias("http.response.status_code"),
        null_if_blank(col("user"), "-").alias("user.name"),
        pl.when(col("_elapsed") >= 0).then(col("_elapsed") * 1_000_000).alias("event.duration"),
    )


def parse_squid(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse Squid native access.log lines into the common schema."""
    frame = line_frame(lines)
    # One space between fields, so a plain split finds them; the 10th keeps any extras.
    # Only runs of blanks are replaced (Squid pads ``elapsed``), sparing most of each line.
    squeezed = pl.col(ORIGINAL).str.strip_chars().str.replace_all(r"\s{2,}|\t", " ")
    split = frame.lazy().with_columns(squeezed.alias("_squeezed"))
    parts = pl.col("_squeezed").str.splitn(" ", len(_FIELDS) + 1)
    # Unnest the split as a frame step: an expression-level unnest would split once per field.
    split = split.select(
        LINE_COLUMN,
        ORIGINAL,
        parts.struct.rename_fields([*_FIELDS, "_rest"]).alias("_parts"),
        (pl.col("_squeezed").str.count_matches(" ", literal=True) + 1).alias("_found"),
    ).unnest("_parts")
    split = split.with_columns(pl.col("_rest").str.extract(r"^(\S+)", 1).alias("type"))
    return finish(_events(split).collect())


# A line whose ten fields read as Squid's native ones, from its start.
_SNIFF = (
    r"^\s*\d{9,11}\.\d{3}\s+-?\d+\s+\S+\s+[A-Z_]+/\d{3}\s+\d+\s+\S+\s+\S+\s+\S+\s+\S+/\S+\s+\S+"
)

PARSER = Parser(
    name="squid",
    description="Squid native access.log",
    parse=parse_squid,
    sniff=sniffer(_SNIFF, share=0.8),
)
