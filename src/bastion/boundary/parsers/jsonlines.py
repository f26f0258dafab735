"""Decode JSON object lines into structs, and say why a line does not decode.

Polars decodes a whole column at once and fails it on one bad line; the helpers here
keep that columnar speed while bad lines are rare, and turn each bad line into a
reason the dead-letter sink can show.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from bastion.boundary.parsers.results import ORIGINAL
from bastion.core.documents import MAX_DEPTH, json_depth


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
