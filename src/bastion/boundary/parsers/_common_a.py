"""Shared column helpers for the Zeek, ECS, CEF, Squid and web-access parsers.

Every helper takes and returns Polars expressions (or whole Series), so the parsers
built on them stay columnar. Parsers build a frame with one row per input line, a
``_reason`` column that is null for good lines, and hand it to ``finish``.

Helpers use their input expression once: Polars does not share a sub-expression that
appears in both the test and a branch of ``when/then``, so a second use would compute
an expensive input (a regex, a split) twice. For the same reason parsers put costly
intermediates in columns of their own before mapping to the schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from bastion.boundary.parsers.base import ParseResult, is_blank
from bastion.core.documents import MAX_DEPTH, json_depth
from bastion.core.events import LINE_COLUMN, TIMESTAMP, conform, empty_events

REASON = "_reason"
ORIGINAL = "event.original"

_DENY_WORDS = [
    "block",
    "blocked",
    "deny",
    "denied",
    "drop",
    "dropped",
    "reject",
    "rejected",
    "reset",
    "quarantine",
    "quarantined",
    "prevent",
    "prevented",
]
_ALLOW_WORDS = ["allow", "allowed", "accept", "accepted", "permit", "permitted", "pass", "passed"]
_VERDICTS = {
    **dict.fromkeys(_DENY_WORDS, "denied"),
    **dict.fromkeys(_ALLOW_WORDS, "allowed"),
}
_IANA_TRANSPORTS = {
    "1": "icmp",
    "6": "tcp",
    "17": "udp",
    "47": "gre",
    "50": "esp",
    "58": "ipv6-icmp",
}

# scheme://[user@]host[:port][path]; the host may be a bracketed IPv6 literal.
_URL_PATTERN = (
    r"^[A-Za-z][A-Za-z0-9+.\-]*://(?:[^@/?#]*@)?"
    r"(?P<host>\[[^\]]*\]|[^:/?#]*)(?::(?P<port>\d{1,5}))?(?P<path>/[^?#]*)?"
)
_AUTHORITY_PATTERN = r"^(?P<host>\[[^\]]+\]|[^:/\s\[\]]+):(?P<port>\d{1,5})$"


def line_frame(lines: pl.Series) -> pl.DataFrame:
    """Return a frame of the raw lines as ``event.original`` with their index as ``_line``."""
    frame = pl.DataFrame({ORIGINAL: lines.cast(pl.String)})
    return frame.with_row_index(LINE_COLUMN).with_columns(pl.col(LINE_COLUMN).cast(pl.Int64))


def finish(frame: pl.DataFrame) -> ParseResult:
    """Split ``frame`` on ``_reason`` into conformed events and rejects."""
    if not frame.columns:
        return ParseResult(empty_events().with_columns(pl.lit(None, pl.Int64).alias(LINE_COLUMN)))
    if REASON not in frame.columns:
        return ParseResult(conform(frame))
    if frame.get_column(REASON).null_count() == frame.height:
        return ParseResult(conform(frame))  # the common case: spare two filters of every column
    bad = pl.col(REASON).is_not_null()
    rejects = frame.filter(bad).select(
        pl.col(LINE_COLUMN).cast(pl.Int64), pl.col(REASON).cast(pl.String).alias("reason")
    )
    return ParseResult(conform(frame.filter(~bad)), rejects)


def non_blank(frame: pl.DataFrame) -> pl.DataFrame:
    """Drop blank lines (``base.is_blank``): they are neither events nor rejects."""
    return frame.filter(~is_blank(pl.col(ORIGINAL)))


def combine(results: Sequence[ParseResult]) -> ParseResult:
    """Concatenate partial results, in order, into one."""
    if not results:
        return ParseResult(empty_events().with_columns(pl.lit(None, pl.Int64).alias(LINE_COLUMN)))
    if len(results) == 1:
        return results[0]
    events = pl.concat([r.events for r in results], how="vertical")
    rejects = pl.concat([r.rejects for r in results], how="vertical")
    return ParseResult(events, rejects)


def first_failure(checks: Sequence[tuple[pl.Expr, pl.Expr | str]]) -> pl.Expr:
    """Return the reason of the first check that fails (its expression is true), else null."""
    reason_expr = pl.lit(None, pl.String)
    for condition, reason in reversed(checks):
        reason_expr = pl.when(condition).then(_as_expr(reason)).otherwise(reason_expr)
    return reason_expr


def _as_expr(value: pl.Expr | str) -> pl.Expr:
    return pl.lit(value, pl.String) if isinstance(value, str) else value


def null_if_blank(expr: pl.Expr, *blanks: str) -> pl.Expr:
    """Return ``expr`` with empty strings (and any of ``blanks``) turned into null."""
    # Comparisons, not ``replace``: a hash lookup per row costs several times as much.
    blank = expr.str.len_bytes() == 0
    for other in blanks:
        blank = blank | (expr == other)
    return pl.when(~blank).then(expr)


def domain(expr: pl.Expr) -> pl.Expr:
    """Normalise a host or DNS name: lower-case, no trailing dot, empty as null."""
    return null_if_blank(expr.str.to_lowercase().str.strip_chars_end("."))


def epoch_seconds(expr: pl.Expr) -> pl.Expr:
    """Convert epoch seconds (text, fractions allowed) to a UTC timestamp; bad text gives null."""
    # NaN and infinities do not cast to integers, so they come out null too.
    micros = (expr.cast(pl.Float64, strict=False) * 1e6).round().cast(pl.Int64, strict=False)
    return pl.from_epoch(micros, time_unit="us").dt.replace_time_zone("UTC")


def epoch_millis(expr: pl.Expr) -> pl.Expr:
    """Convert integral epoch milliseconds (text) to a UTC timestamp; bad text gives null."""
    millis = expr.str.extract(r"^(\d{1,15})$", 1).cast(pl.Int64, strict=False)
    return pl.from_epoch(millis, time_unit="ms").cast(TIMESTAMP)


def iso_timestamp(expr: pl.Expr) -> pl.Expr:
    """Parse ISO 8601 text (``Z``, an offset, or none meaning UTC) to a UTC timestamp."""
    text = expr.str.strip_chars().str.replace(r"^(\d{4}-\d\d-\d\d) ", "${1}T")
    with_zone = text.str.replace(r"[Zz]$", "+00:00").str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_unit="us"
    )
    naive = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
    return pl.coalesce(with_zone.dt.convert_time_zone("UTC"), naive.dt.replace_time_zone("UTC"))


def iso_timestamps(text: pl.Series) -> pl.Series:
    """``iso_timestamp`` over a column, in one pass for the usual ``…T…Z`` or ``…+hh:mm`` form.

    Only the values that pass does not read (a space for the ``T``, no zone) take
    ``iso_timestamp``'s several passes.
    """
    zoned = (
        text.str.strip_chars()
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_unit="us")
        .dt.convert_time_zone("UTC")
    )
    rest = zoned.is_null() & text.is_not_null()
    if not rest.any():
        return zoned
    general = text.filter(rest).to_frame("t").select(iso_timestamp(pl.col("t"))).to_series()
    return zoned.scatter(rest.arg_true(), general)


def int_field(expr: pl.Expr, dtype: pl.DataType = pl.Int64()) -> pl.Expr:
    """Cast text to an integer type; anything that is not an integer gives null."""
    return expr.cast(dtype, strict=False)


def bad_number(raw: pl.Expr, parsed: pl.Expr) -> pl.Expr:
    """Return true where ``raw`` holds a value but ``parsed`` could not read it."""
    return raw.is_not_null() & parsed.is_null()


def port(expr: pl.Expr) -> pl.Expr:
    """Cast text to a port number; out-of-range or non-numeric gives null."""
    return expr.cast(pl.UInt16, strict=False).cast(pl.Int32)


def add_bytes(left: pl.Expr, right: pl.Expr) -> pl.Expr:
    """Sum two byte counts, treating one missing side as zero but both missing as null.

    Pass columns (not costly expressions): each side is used more than once.
    """
    return (
        pl.when(left.is_null() & right.is_null())
        .then(None)
        .otherwise(left.fill_null(0) + right.fill_null(0))
    )


def transport(expr: pl.Expr) -> pl.Expr:
    """Normalise a transport protocol: lower-case name, IANA numbers mapped to names."""
    return null_if_blank(expr.str.to_lowercase()).replace(_IANA_TRANSPORTS)


def verdict(action: pl.Expr) -> pl.Expr:
    """Map a device's action word to ``denied``/``allowed``, or null when it says neither."""
    return (
        action.str.strip_chars()
        .str.to_lowercase()
        .replace_strict(_VERDICTS, default=None, return_dtype=pl.String)
    )


def with_url_parts(frame: pl.LazyFrame, url: pl.Expr | str, prefix: str) -> pl.LazyFrame:
    """Add ``{prefix}domain``, ``{prefix}port``, ``{prefix}path`` of absolute URLs in ``url``.

    Parts are null where the value is not an absolute URL. The regex's groups are first
    kept as a column so that each part reads that column (see the module docstring).
    """
    url = pl.col(url) if isinstance(url, str) else url
    groups = f"{prefix}groups"
    parts = pl.col(groups).struct
    return (
        frame.with_columns(url.str.extract_groups(_URL_PATTERN).alias(groups))
        .with_columns(
            domain(parts.field("host").str.strip_prefix("[").str.strip_suffix("]")).alias(
                f"{prefix}domain"
            ),
            port(parts.field("port")).alias(f"{prefix}port"),
            null_if_blank(parts.field("path")).alias(f"{prefix}path"),
        )
        .drop(groups)
    )


def with_authority_parts(frame: pl.LazyFrame, target: pl.Expr | str, prefix: str) -> pl.LazyFrame:
    """Add ``{prefix}domain`` and ``{prefix}port`` of ``host:port`` (CONNECT) targets."""
    target = pl.col(target) if isinstance(target, str) else target
    groups = f"{prefix}groups"
    parts = pl.col(groups).struct
    return (
        frame.with_columns(target.str.extract_groups(_AUTHORITY_PATTERN).alias(groups))
        .with_columns(
            domain(parts.field("host").str.strip_prefix("[").str.strip_suffix("]")).alias(
                f"{prefix}domain"
            ),
            port(parts.field("port")).alias(f"{prefix}port"),
        )
        .drop(groups)
    )


def path_of(target: pl.Expr) -> pl.Expr:
    """Return the path of an origin-form request target (everything before ``?``)."""
    return target.str.extract(r"^(/[^?]*)", 1)


def sha256(expr: pl.Expr) -> pl.Expr:
    """Keep a value only if it is a SHA-256 hex digest, lower-cased."""
    return expr.str.strip_chars().str.to_lowercase().str.extract(r"^([0-9a-f]{64})$", 1)


def mostly(lines: list[str], accept: Callable[[str], bool], share: float = 0.8) -> bool:
    """Return true if at least ``share`` of the (non-empty) sample lines are accepted."""
    if not lines:
        return False
    hits = sum(1 for line in lines if accept(line))
    return hits >= max(1, share * len(lines))


def matcher(pattern: str) -> Callable[[str], bool]:
    """Return a predicate that tells whether a line matches ``pattern`` from its start."""
    compiled = re.compile(pattern)
    return lambda line: compiled.match(line) is not None


def decode_json(lines: pl.Series, dtype: pl.Struct) -> tuple[pl.Series, pl.Series]:
    """Decode JSON object lines into ``dtype``; return the structs and a per-line error (or null).

    Polars fails a whole column on one bad line, so on failure the column is halved until
    the bad lines are isolated: the cost stays columnar while bad lines are rare, and a
    bad line becomes a reject with the decoder's own message instead of sinking the batch.
    """
    try:
        decoded = lines.str.json_decode(dtype)
        return decoded, pl.repeat(None, len(lines), dtype=pl.String, eager=True)
    except pl.exceptions.PolarsError as exc:
        if len(lines) == 1:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            message = json_problem(lines.item(), dtype) or message
            # Decoding "null" gives a well-formed null struct (a Series built from [None]
            # with a nested struct type does not, and breaks later struct expressions).
            missing = pl.Series(["null"], dtype=pl.String).str.json_decode(dtype)
            return missing, pl.Series([message], dtype=pl.String)
    middle = len(lines) // 2
    head, head_errors = decode_json(lines.slice(0, middle), dtype)
    tail, tail_errors = decode_json(lines.slice(middle), dtype)
    return head.append(tail).rechunk(), head_errors.append(tail_errors).rechunk()


def nesting_errors(lines: pl.Series) -> pl.Series:
    """Say, per line, why it nests too deeply to decode (null for the rest).

    The decoder recurses per level and crashes the process on a line nested some
    hundred thousand deep, so such a line never reaches it. Only lines with more
    than MAX_DEPTH brackets in all are measured, one by one; in logs they are rare.
    """
    many = lines.str.count_matches(r"[\[{]").fill_null(0) > MAX_DEPTH
    reasons: list[str | None] = [None] * len(lines)
    for index in many.arg_true().to_list():
        depth = json_depth(lines[index])
        if depth > MAX_DEPTH:
            reasons[index] = f"nests {depth} arrays or objects deep; at most {MAX_DEPTH} are read"
    return pl.Series(reasons, dtype=pl.String)


def json_problem(line: str | None, dtype: pl.Struct) -> str | None:
    """Say what is wrong with one JSON line the decoder refused, or None if Python cannot tell.

    Called only for lines already rejected, one at a time: "JSON ends early at byte 37",
    "JSON syntax error at byte 12: expecting ',' delimiter", "field 'ts' holds a JSON
    object, not a value". Byte positions count from 1 in the line as written (UTF-8).
    """
    if line is None:
        return None

    def no_constants(name: str) -> None:
        msg = f"{name} is not a JSON value"
        raise ValueError(msg)

    try:
        value = json.loads(line, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        size = len(line.encode())
        if exc.pos >= len(line.rstrip()) or exc.msg.startswith("Unterminated string"):
            return f"JSON ends early at byte {size}"
        at = len(line[: exc.pos].encode()) + 1
        what = exc.msg[:1].lower() + exc.msg[1:]
        if what == "extra data":
            return f"JSON has more after its end, at byte {at}"
        return f"JSON syntax error at byte {at}: {what}"
    except (ValueError, RecursionError) as exc:
        return f"not valid JSON: {exc}"
    if not isinstance(value, dict):
        return "not a JSON object"
    return _misfit_field(value, dtype)


def _misfit_field(record: dict[str, Any], dtype: pl.Struct, prefix: str = "") -> str | None:
    """Name the first field whose JSON type the decoder cannot read as ``dtype`` asks."""
    for field in dtype.fields:
        value = record.get(field.name)
        name = prefix + field.name
        if value is None:
            continue
        if isinstance(field.dtype, pl.Struct):
            if not isinstance(value, dict):
                return f"field {name!r} holds {_kind(value)}, not an object"
            inner = _misfit_field(value, field.dtype, f"{name}.")
            if inner is not None:
                return inner
        elif isinstance(field.dtype, pl.List):
            items = value if isinstance(value, list) else [value]
            bad = next((v for v in items if isinstance(v, dict | list)), None)
            if bad is not None:
                return f"field {name!r} holds {_kind(bad)} where text or a list of text belongs"
        elif isinstance(value, dict | list):
            return f"field {name!r} holds {_kind(value)}, not a single value"
    return None


def _kind(value: object) -> str:
    """Name a decoded JSON value's type as a reason says it."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "true or false"
    return "a number" if isinstance(value, int | float) else "text"


def decode_json_column(
    frame: pl.DataFrame, dtype: pl.Struct, fallback: pl.Struct | None = None
) -> pl.DataFrame:
    """Add ``_object`` (line looks like ``{…}``), ``_json`` (decoded) and ``_error`` to ``frame``.

    Lines that are not objects are not handed to the decoder at all, so a stream of
    garbage does not send ``decode_json`` into its slow, line-by-line search; nor are
    lines nested too deeply (their ``_error`` says so). A line that
    opens an object but does not close it (cut short) gets its ``_error`` from
    ``json_problem``, so parsers check ``_error`` before ``_object``. ``fallback``, a
    more tolerant type, decodes all the lines when it reads a line ``dtype`` cannot.
    """
    text = pl.col(ORIGINAL)
    opens = text.str.contains(r"^\s*\{")
    frame = frame.with_columns(
        (opens & text.str.contains(r"\}\s*$")).alias("_object"),
        opens.alias("_opens"),
        nesting_errors(frame.get_column(ORIGINAL)).alias("_deep"),
    )
    decodable = pl.col("_object") & pl.col("_deep").is_null()
    objects = frame.select(pl.when(decodable).then(text).otherwise(pl.lit("null"))).to_series()
    decoded, errors = decode_json(objects, dtype)
    if fallback is not None and errors.null_count() < len(errors):
        # Only if the fallback reads a line ``dtype`` did not: a broken line alone is no reason.
        _, retried = decode_json(objects.filter(errors.is_not_null()), fallback)
        if retried.null_count():
            dtype = fallback
            decoded, errors = decode_json(objects, dtype)
    unclosed = frame.select(
        pl.col("_opens") & ~pl.col("_object") & pl.col("_deep").is_null()
    ).to_series()
    if unclosed.any():  # rejected lines, described one by one
        problems = [
            json_problem(line, dtype) or "not a JSON object"
            for line in frame.get_column(ORIGINAL).filter(unclosed)
        ]
        errors = errors.scatter(unclosed.arg_true(), pl.Series(problems, dtype=pl.String))
    return frame.with_columns(
        decoded.alias("_json"), pl.coalesce(pl.col("_deep"), errors).alias("_error")
    ).drop("_opens", "_deep")
