"""ECS JSON lines ("ecs"): events already in the Elastic Common Schema.

Fields may be nested (``{"source": {"ip": …}}``) or flat with dotted keys
(``{"source.ip": …}``); a dotted key wins over the nested one when both are present.
The whole column is decoded at once with an explicit struct type, every leaf read as
text, then normalised like every other format. ``event.dataset`` is kept from the event
when it has one (e.g. Filebeat's ``zeek.dns``), else it is ``ecs``; ``event.type`` (an
ECS array) becomes ``denied``/``allowed`` when it holds one of those words.
Where ECS has a more specific field than our schema, it fills the gap: client/server
for source/destination, ``url.original`` for url.full.
"""

from __future__ import annotations

import json

import polars as pl

from bastion.boundary.parsers._common_a import (
    ORIGINAL,
    REASON,
    add_bytes,
    decode_json_column,
    domain,
    epoch_millis,
    finish,
    first_failure,
    int_field,
    iso_timestamp,
    line_frame,
    non_blank,
    null_if_blank,
    path_of,
    port,
    sha256,
    transport,
    with_url_parts,
)
from bastion.boundary.parsers.base import ParseContext, ParseResult, register
from bastion.boundary.schema import EVENT_SCHEMA, LINE_COLUMN

# Schema fields read from the event (event.original is always the raw line), plus the
# more specific ECS fields used as fall-backs.
_READ = sorted(
    (set(EVENT_SCHEMA) - {"event.original", "event.type"})
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
_LISTS = frozenset({"event.type"})
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


def _events(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Map the decoded ECS struct column to the schema."""
    stamp_text = _text("@timestamp")
    source_bytes = int_field(pl.coalesce(pl.col("source.bytes"), pl.col("client.bytes")))
    destination_bytes = int_field(pl.coalesce(pl.col("destination.bytes"), pl.col("server.bytes")))
    # Costly intermediates become columns first (see _common_a's module docstring).
    frame = frame.with_columns(
        pl.coalesce(_text("url.full"), _text("url.original")).alias("_full"),
        pl.coalesce(iso_timestamp(stamp_text), epoch_millis(stamp_text)).alias("_stamp"),
    )
    frame = with_url_parts(frame, "_full", "_url_")
    full, stamp = pl.col("_full"), pl.col("_stamp")
    checks: list[tuple[pl.Expr, pl.Expr | str]] = [
        (~pl.col("_object"), "ecs: not a JSON object"),
        (
            pl.col("_error").is_not_null(),
            pl.concat_str(
                [
                    pl.lit("ecs: not valid JSON or a field has an unexpected type ("),
                    "_error",
                    pl.lit(")"),
                ]
            ),
        ),
        (pl.col("_json").is_null(), "ecs: not a JSON object"),
        (stamp_text.is_null(), "ecs: field '@timestamp' is missing"),
        (stamp.is_null(), "ecs: field '@timestamp' is not an ISO 8601 time or epoch milliseconds"),
    ]
    return frame.select(
        pl.col(LINE_COLUMN),
        pl.col(ORIGINAL),
        first_failure(checks).alias(REASON),
        stamp.alias("@timestamp"),
        _text("event.dataset").fill_null(pl.lit("ecs")).alias("event.dataset"),
        _text("event.action").str.to_lowercase().alias("event.action"),
        _verdict(pl.col("event.type")).alias("event.type"),
        _text("observer.vendor").alias("observer.vendor"),
        _text("observer.product").alias("observer.product"),
        _text("observer.name").alias("observer.name"),
        pl.coalesce(_text("source.ip"), _text("client.ip")).alias("source.ip"),
        port(pl.coalesce(pl.col("source.port"), pl.col("client.port"))).alias("source.port"),
        source_bytes.alias("source.bytes"),
        pl.coalesce(_text("destination.ip"), _text("server.ip")).alias("destination.ip"),
        pl.coalesce(
            port(pl.col("destination.port")), port(pl.col("server.port")), pl.col("_url_port")
        ).alias("destination.port"),
        destination_bytes.alias("destination.bytes"),
        transport(pl.col("network.transport")).alias("network.transport"),
        _text("network.protocol").str.to_lowercase().alias("network.protocol"),
        pl.coalesce(
            int_field(pl.col("network.bytes")), add_bytes(source_bytes, destination_bytes)
        ).alias("network.bytes"),
        full.alias("url.full"),
        pl.coalesce(domain(pl.col("url.domain")), pl.col("_url_domain")).alias("url.domain"),
        pl.coalesce(_text("url.path"), pl.col("_url_path"), path_of(full)).alias("url.path"),
        _text("http.request.method").str.to_uppercase().alias("http.request.method"),
        int_field(pl.col("http.response.status_code"), pl.Int32()).alias(
            "http.response.status_code"
        ),
        _text("user_agent.original").alias("user_agent.original"),
        domain(pl.col("dns.question.name")).alias("dns.question.name"),
        _text("dns.question.type").str.to_uppercase().alias("dns.question.type"),
        _text("dns.response_code").str.to_uppercase().alias("dns.response_code"),
        domain(pl.col("tls.server.name")).alias("tls.server.name"),
        _text("tls.client.ja3").str.to_lowercase().alias("tls.client.ja3"),
        _text("tls.client.ja4").alias("tls.client.ja4"),
        sha256(pl.col("file.hash.sha256")).alias("file.hash.sha256"),
        _text("rule.name").alias("rule.name"),
    )


def _sniff(lines: list[str]) -> bool:
    def is_ecs(line: str) -> bool:
        try:
            record = json.loads(line)
        except ValueError:
            return False
        if not isinstance(record, dict) or "@timestamp" not in record or "ts" in record:
            return False
        return any(key.split(".")[0] in _TOP_KEYS - {"@timestamp"} for key in record)

    return bool(lines) and sum(map(is_ecs, lines)) >= max(1, 0.8 * len(lines))


@register("ecs", "ECS JSON lines, nested or with flat dotted keys", _sniff)
def parse_ecs(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse ECS JSON lines into the common schema."""
    frame = non_blank(line_frame(lines))
    text = frame.get_column(ORIGINAL)
    flat = bool(text.str.contains(_FLAT_KEY).any())
    nested = bool(text.str.contains(r'":\s*\{').any())
    frame = decode_json_column(frame, _DTYPES[flat, nested])
    lazy = frame.lazy().select(
        LINE_COLUMN, ORIGINAL, "_object", "_json", "_error", *_flatten(flat=flat, nested=nested)
    )
    return finish(_events(lazy).collect())
