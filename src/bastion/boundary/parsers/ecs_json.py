"""ECS JSON lines ("ecs"): events already in the Elastic Common Schema.

Fields may be nested (``{"source": {"ip": …}}``) or flat with dotted keys
(``{"source.ip": …}``); a dotted key wins over the nested one when both are present.
The whole column is decoded at once with an explicit struct type, every leaf read as
text, then normalised like every other format. ``event.dataset`` is kept from the event
when it has one (e.g. Filebeat's ``zeek.dns``), else it is ``ecs``; ``event.type`` (an
ECS array) becomes ``denied``/``allowed`` when it holds one of those words, and
``event.category`` (an array too, or one value) is its first value. The NAT, user,
threat, URL category and application fields are taken as they are named; an address
field that holds no IP address is null.
Where ECS has a more specific field than our schema, it fills the gap: client/server
for source/destination, ``url.original`` for url.full.

The chunk reader decodes with Arrow's JSON reader, the fastest of the decoders
compared (docs/parsers.md), and falls back on the line parser for any chunk Arrow
cannot read exactly as text.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json
from polars._typing import PolarsDataType

from bastion.boundary.lines import Lines
from bastion.boundary.parsers.base import ParseContext, Parser, ParseResult, clip
from bastion.boundary.parsers.fields import (
    ADDRESSES,
    add_bytes,
    compress_ipv6,
    domain,
    epoch_millis,
    integer,
    ip_address,
    iso_timestamps,
    null_if_blank,
    port,
    sha256,
    transport,
)
from bastion.boundary.parsers.jsonlines import decode_json_column
from bastion.boundary.parsers.results import (
    ORIGINAL,
    checked,
    finish,
    line_frame,
    scatter_rows,
)
from bastion.boundary.parsers.sniffing import json_sniffer
from bastion.boundary.parsers.urls import path_of, with_url_parts
from bastion.core.events import EVENT_SCHEMA, LINE_COLUMN

# Schema fields read from the event (event.original is always the raw line), plus the
# more specific ECS fields used as fall-backs.
_READ = sorted(
    (set(EVENT_SCHEMA) - {"event.original", "event.type", "event.category"})
    | {
        "client.ip",
        "client.port",
        "client.bytes",
        "server.ip",
        "server.port",
        "server.bytes",
        "url.original",
    }
)
_LISTS = frozenset({"event.type", "event.category"})
_TOP_KEYS = frozenset(name.split(".")[0] for name in [*_READ, *_LISTS])
# A dotted key we read; its literal prefixes let the regex engine skip most of each line.
_FLAT_KEY = r'"(?:' + "|".join(sorted(_TOP_KEYS - {"@timestamp"})) + r')\.[\w.]+"\s*:'


def _dtype(*, flat: bool, nested: bool) -> pl.Struct:
    """Build the struct type that reads every wanted field, flat and/or nested."""
    tree: dict[str, object] = {}
    for name in [*_READ, *_LISTS]:
        node = tree
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[leaf] = name

    def build(node: dict[str, object]) -> dict[str, pl.DataType]:
        out: dict[str, pl.DataType] = {}
        for key, child in node.items():
            if isinstance(child, dict):
                out[key] = pl.Struct(build(child))
            else:
                out[key] = pl.List(pl.String) if child in _LISTS else pl.String()
        return out

    fields: dict[str, pl.DataType] = build(tree) if nested else {"@timestamp": pl.String()}
    if flat:
        for name in [*_READ, *_LISTS]:
            if "." in name:
                fields[name] = pl.List(pl.String) if name in _LISTS else pl.String()
    return pl.Struct(fields)


# Decoding cost grows with the struct's width, so a batch that uses only one key style
# is decoded with that style's type alone.
_DTYPES = {
    (flat, nested): _dtype(flat=flat, nested=nested)
    for flat in (False, True)
    for nested in (False, True)
}


def _flatten(*, flat: bool, nested: bool) -> list[pl.Expr]:
    """Return one column per wanted ECS field, the flat key winning over the nested one."""
    columns = []
    for name in [*_READ, *_LISTS]:
        parts = []
        if flat and "." in name:
            parts.append(pl.col("_json").struct.field(name))
        if nested or "." not in name:
            *parents, leaf = name.split(".")
            value = pl.col("_json")
            for part in parents:
                value = value.struct.field(part)
            parts.append(value.struct.field(leaf))
        if not parts:
            parts.append(pl.lit(None, pl.List(pl.String) if name in _LISTS else pl.String))
        columns.append(pl.coalesce(parts).alias(name))
    return columns


def _text(name: str) -> pl.Expr:
    return null_if_blank(pl.col(name))


def _verdict(types: pl.Expr) -> pl.Expr:
    """Map an ECS ``event.type`` array to ``denied``/``allowed``, else null."""
    # Rank the words so one pass finds the strongest: denied over allowed over the rest.
    ranks = {"denied": 2, "allowed": 1}
    rank = types.list.eval(
        pl.element().str.to_lowercase().replace_strict(ranks, default=0, return_dtype=pl.Int8)
    ).list.max()
    return rank.replace_strict({2: "denied", 1: "allowed"}, default=None, return_dtype=pl.String)


def _with_url_parts(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the URL's ``_url_domain``, ``_url_port`` and ``_url_path``, parsed only where read.

    They are fall-backs: an event that gives url.domain, url.path and a destination
    port (most do) never reads them, and parsing URLs is a third of the mapping's cost.
    """
    needed = pl.col("_full").is_not_null() & (
        domain(pl.col("url.domain")).is_null()
        | (port(pl.col("destination.port")).is_null() & port(pl.col("server.port")).is_null())
        | _text("url.path").is_null()
    )
    mask = frame.select(needed).to_series()
    parts = with_url_parts(frame.lazy().filter(mask).select("_full"), "_full", "_url_")
    return scatter_rows(frame, mask, parts.drop("_full").collect())


def _events(decoded: pl.DataFrame) -> pl.DataFrame:
    """Map the flattened ECS fields to the schema."""
    stamp_text = _text("@timestamp")
    source_bytes = integer(pl.coalesce(pl.col("source.bytes"), pl.col("client.bytes")))
    destination_bytes = integer(pl.coalesce(pl.col("destination.bytes"), pl.col("server.bytes")))
    stamps = decoded.select(stamp_text).to_series()
    # Costly intermediates become columns first (see the fields module's docstring).
    frame = _with_url_parts(
        decoded.with_columns(
            pl.coalesce(_text("url.full"), _text("url.original")).alias("_full"),
            pl.coalesce(iso_timestamps(stamps), epoch_millis(stamp_text)).alias("_stamp"),
        )
    ).lazy()
    full, stamp = pl.col("_full"), pl.col("_stamp")
    checks: list[tuple[pl.Expr, pl.Expr | str]] = [
        (
            pl.col("_error").is_not_null(),
            pl.concat_str([pl.lit("ecs: "), clip(pl.col("_error"))]),
        ),
        (~pl.col("_object"), "ecs: not a JSON object"),
        (~pl.col("_decoded"), "ecs: not a JSON object"),
        (stamp_text.is_null(), "ecs: field '@timestamp' is missing"),
        (stamp.is_null(), "ecs: field '@timestamp' is not an ISO 8601 time or epoch milliseconds"),
    ]
    events = frame.select(
        *checked(checks),
        stamp.alias("@timestamp"),
        _text("event.dataset").fill_null(pl.lit("ecs")).alias("event.dataset"),
        _text("event.action").str.to_lowercase().alias("event.action"),
        _verdict(pl.col("event.type")).alias("event.type"),
        _text("observer.vendor").alias("observer.vendor"),
        _text("observer.product").alias("observer.product"),
        _text("observer.name").alias("observer.name"),
        pl.coalesce(ip_address(_text("source.ip")), ip_address(_text("client.ip"))).alias(
            "source.ip"
        ),
        port(pl.coalesce(pl.col("source.port"), pl.col("client.port"))).alias("source.port"),
        source_bytes.alias("source.bytes"),
        pl.coalesce(ip_address(_text("destination.ip")), ip_address(_text("server.ip"))).alias(
            "destination.ip"
        ),
        pl.coalesce(
            port(pl.col("destination.port")), port(pl.col("server.port")), pl.col("_url_port")
        ).alias("destination.port"),
        destination_bytes.alias("destination.bytes"),
        transport(pl.col("network.transport")).alias("network.transport"),
        _text("network.protocol").str.to_lowercase().alias("network.protocol"),
        pl.coalesce(
            integer(pl.col("network.bytes")), add_bytes(source_bytes, destination_bytes)
        ).alias("network.bytes"),
        full.alias("url.full"),
        pl.coalesce(domain(pl.col("url.domain")), pl.col("_url_domain")).alias("url.domain"),
        pl.coalesce(_text("url.path"), pl.col("_url_path"), path_of(full)).alias("url.path"),
        _text("http.request.method").str.to_uppercase().alias("http.request.method"),
        integer(pl.col("http.response.status_code"), pl.Int32()).alias("http.response.status_code"),
        _text("user_agent.original").alias("user_agent.original"),
        domain(pl.col("dns.question.name")).alias("dns.question.name"),
        _text("dns.question.type").str.to_uppercase().alias("dns.question.type"),
        _text("dns.response_code").str.to_uppercase().alias("dns.response_code"),
        domain(pl.col("tls.server.name")).alias("tls.server.name"),
        _text("tls.client.ja3").str.to_lowercase().alias("tls.client.ja3"),
        _text("tls.client.ja4").alias("tls.client.ja4"),
        sha256(pl.col("file.hash.sha256")).alias("file.hash.sha256"),
        _text("rule.name").alias("rule.name"),
        null_if_blank(pl.col("event.category").list.first())
        .str.to_lowercase()
        .alias("event.category"),
        _text("event.outcome").str.to_lowercase().alias("event.outcome"),
        ip_address(_text("source.nat.ip")).alias("source.nat.ip"),
        port(pl.col("source.nat.port")).alias("source.nat.port"),
        ip_address(_text("destination.nat.ip")).alias("destination.nat.ip"),
        port(pl.col("destination.nat.port")).alias("destination.nat.port"),
        _text("user.name").alias("user.name"),
        _text("user.domain").alias("user.domain"),
        _text("destination.user.name").alias("destination.user.name"),
        _text("threat.name").alias("threat.name"),
        _text("threat.id").alias("threat.id"),
        _text("threat.category").alias("threat.category"),
        _text("threat.severity").str.to_lowercase().alias("threat.severity"),
        _text("url.category").alias("url.category"),
        _text("network.application").str.to_lowercase().alias("network.application"),
        _text("network.application_risk").alias("network.application_risk"),
    ).collect()
    # IPv6 in its RFC 5952 short form, lower-case, as every parser gives it.
    return events.with_columns(compress_ipv6(events.get_column(name)) for name in ADDRESSES)


def _is_ecs(record: dict[str, Any]) -> bool:
    return (
        "@timestamp" in record
        and "ts" not in record
        and any(key.split(".")[0] in _TOP_KEYS - {"@timestamp"} for key in record)
    )


def parse_ecs(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse ECS JSON lines into the common schema."""
    frame = line_frame(lines)
    flat, nested = _styles(frame.get_column(ORIGINAL))
    frame = decode_json_column(frame, _DTYPES[flat, nested])
    flattened = frame.select(
        LINE_COLUMN,
        ORIGINAL,
        "_object",
        "_error",
        pl.col("_json").is_not_null().alias("_decoded"),
        *_flatten(flat=flat, nested=nested),
    )
    return finish(_events(flattened))


def _styles(text: pl.Series) -> tuple[bool, bool]:
    """Tell whether the lines use flat dotted keys, nested objects, or both."""
    return _has_flat_keys(text), bool(text.str.contains(r'"\s*:\s*\{').any())


def _has_flat_keys(text: pl.Series) -> bool:
    return bool(text.str.contains(_FLAT_KEY).any())


# Leaf types the Arrow JSON reader may infer that read as text exactly as Polars' decoder
# gives them; anything else (floats, objects where text is expected) takes the line path.
_AS_TEXT = (pl.String, pl.Int64, pl.Boolean, pl.Null)


def _leaf(frame: pl.DataFrame, path: list[str], want: pl.DataType) -> pl.Expr | None:
    """Return the column at ``path`` of the decoded frame as ``want``; a null literal if absent.

    None when its inferred type does not convert exactly (the chunk then takes the line path).
    """
    have: PolarsDataType | None = frame.schema.get(path[0])
    expr = pl.col(path[0])
    for part in path[1:]:
        if not isinstance(have, pl.Struct):
            return pl.lit(None, want) if have is None or isinstance(have, pl.Null) else None
        fields = {f.name: f.dtype for f in have.fields}
        have, expr = fields.get(part), expr.struct.field(part)
    if have is None or isinstance(have, pl.Null):
        return pl.lit(None, want)
    if isinstance(want, pl.List):
        if isinstance(have, _AS_TEXT):  # one value where ECS has an array: a list of it
            text = expr.cast(pl.String)
            return pl.when(text.is_not_null()).then(pl.concat_list(text))
        inner = have.inner if isinstance(have, pl.List) else None
        if inner is None or not isinstance(inner, _AS_TEXT):
            return None
        return expr.cast(want)
    return expr.cast(pl.String) if isinstance(have, _AS_TEXT) else None


def read_ecs(lines: Lines, ctx: ParseContext) -> ParseResult:
    """Parse a chunk as ``parse_ecs`` does, decoded by Arrow's JSON reader where it can.

    Arrow's reader decodes a chunk twice as fast as Polars' but infers its own types;
    it is used only when every line is a JSON object and every field read converts to
    text exactly. Any other chunk (a bad line, a float, a field whose type changes
    between lines, blank lines) is parsed line by line by ``parse_ecs``.
    """
    data = lines.data
    decoded = None
    if data is not None and b"\r" not in data:
        try:
            decoded = pl.from_arrow(
                pa_json.read_json(
                    pa.py_buffer(data),
                    read_options=pa_json.ReadOptions(use_threads=False, block_size=len(data) + 1),
                )
            )
        except (pa.ArrowException, ValueError):
            decoded = None
    if not isinstance(decoded, pl.DataFrame) or decoded.height != len(lines):
        return parse_ecs(lines.text, ctx)
    # The styles come from the decoded columns, sparing two regex passes over the text:
    # nested paths read only where Arrow found objects, which is where ``_styles`` sees
    # them, and a dotted column is read only if the text spells such a key as ``_styles``
    # looks for it (an escaped dot does not count, as on the line path).
    flat = any("." in name for name in decoded.columns) and _has_flat_keys(lines.text)
    nested = True
    columns = []
    for name in [*_READ, *_LISTS]:
        want: pl.DataType = pl.List(pl.String) if name in _LISTS else pl.String()
        # The flat dotted key wins over the nested one, as in ``_flatten``.
        paths = ([[name]] if flat and "." in name else []) + (
            [name.split(".")] if nested or "." not in name else []
        )
        parts = [_leaf(decoded, path, want) for path in paths]
        if any(part is None for part in parts):
            return parse_ecs(lines.text, ctx)
        found = [part for part in parts if part is not None] or [pl.lit(None, want)]
        columns.append(pl.coalesce(found).alias(name))
    # with_columns, not select: where every column is a null literal, select gives one row.
    read = decoded.with_columns(columns).select([*_READ, *_LISTS])
    frame = line_frame(lines.text, keep_blank=True).hstack(read)
    flattened = frame.with_columns(
        pl.lit(value=True).alias("_object"),
        pl.lit(None, pl.String).alias("_error"),
        pl.lit(value=True).alias("_decoded"),
    )
    return finish(_events(flattened))


PARSER = Parser(
    name="ecs",
    description="ECS JSON lines, nested or with flat dotted keys",
    parse=parse_ecs,
    sniff=json_sniffer(_is_ecs),
    read_chunk=read_ecs,
)
