"""Build a parser's result: number the lines, check them, split events from rejects.

A parser starts from ``line_frame`` (one row per input line, ``event.original`` and
its index ``_line``) and ends in one of two ways: with a ``_reason`` column that is
null for good lines (``finish``), or with a list of checks and the schema's fields
(``finish_checked``). Either way every non-blank line is an event or a reject.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import polars as pl

from bastion.boundary.parsers.base import ParseResult, is_blank
from bastion.boundary.parsers.fields import integer
from bastion.core.events import LINE_COLUMN, conform, empty_rejects

REASON = "_reason"
ORIGINAL = "event.original"

# (condition, reason): the row is rejected with ``reason`` where ``condition`` holds.
Check = tuple[pl.Expr, pl.Expr | str]


def line_frame(lines: pl.Series, *, keep_blank: bool = False) -> pl.DataFrame:
    """Return the lines as ``event.original`` with their input index as ``_line``.

    Blank lines are neither events nor rejects (a trailing newline is not bad input),
    so they are dropped unless ``keep_blank`` (a format whose headers must be read
    first drops them itself, with ``non_blank``).
    """
    frame = pl.DataFrame({ORIGINAL: lines.cast(pl.String)}).with_row_index(LINE_COLUMN)
    frame = frame.with_columns(pl.col(LINE_COLUMN).cast(pl.Int64))
    return frame if keep_blank else non_blank(frame)


def non_blank(frame: pl.DataFrame) -> pl.DataFrame:
    """Drop blank lines (``base.is_blank``): they are neither events nor rejects."""
    return frame.filter(~is_blank(pl.col(ORIGINAL)))


def empty_result() -> ParseResult:
    """Return a result with no events and no rejects."""
    events = conform(pl.DataFrame(schema={LINE_COLUMN: pl.Int64}))
    return ParseResult(events, empty_rejects())


def first_failure(checks: Sequence[Check]) -> pl.Expr:
    """Return the reason of the first check that fails (its expression is true), else null."""
    reason_expr = pl.lit(None, pl.String)
    for condition, reason in reversed(checks):
        text = pl.lit(reason, pl.String) if isinstance(reason, str) else reason
        reason_expr = pl.when(condition).then(text).otherwise(reason_expr)
    return reason_expr


def checked(checks: Sequence[Check]) -> list[pl.Expr]:
    """Return the columns ``finish`` splits on: the line's index and text, and its ``_reason``.

    A parser selects them first, then its schema fields; ``_reason`` is the reason of
    the first of ``checks`` that fails (``first_failure``).
    """
    return [pl.col(LINE_COLUMN), pl.col(ORIGINAL), first_failure(checks).alias(REASON)]


def finish(frame: pl.DataFrame) -> ParseResult:
    """Split ``frame`` on ``_reason`` into conformed events and rejects."""
    if not frame.columns:
        return empty_result()
    if REASON not in frame.columns:
        return ParseResult(conform(frame))
    if frame.get_column(REASON).null_count() == frame.height:
        return ParseResult(conform(frame))  # the common case: spare two filters of every column
    bad = pl.col(REASON).is_not_null()
    rejects = frame.filter(bad).select(
        pl.col(LINE_COLUMN).cast(pl.Int64), pl.col(REASON).cast(pl.String).alias("reason")
    )
    return ParseResult(conform(frame.filter(~bad)), rejects)


def finish_checked(
    frame: pl.DataFrame, checks: Sequence[Check], fields: Sequence[pl.Expr]
) -> ParseResult:
    """Reject the rows failing a check (first failing check's reason), map the rest to ``fields``.

    The reason, a string or an expression over the row, is only computed for rows that
    fail, so a long list of checks with detailed messages costs one integer column on
    good rows.
    """
    code: pl.Expr = pl.lit(None, pl.Int16)
    for index, (condition, _) in reversed(list(enumerate(checks))):
        code = pl.when(condition.fill_null(False)).then(pl.lit(index, pl.Int16)).otherwise(code)
    codes = frame.select(code.alias("_code")).to_series()
    rejects = empty_rejects()
    if codes.null_count() < frame.height:
        bad = codes.is_not_null()
        reason: pl.Expr = pl.lit(None, pl.String)
        for index, (_, message) in reversed(list(enumerate(checks))):
            text = pl.lit(message) if isinstance(message, str) else message
            reason = pl.when(pl.col("_code") == index).then(text).otherwise(reason)
        # One chunk per column: formatting columns chunked differently panics in Polars 1.44.
        rejects = (
            frame.filter(bad)
            .with_columns(codes.filter(bad))
            .rechunk()
            .select(pl.col(LINE_COLUMN).cast(pl.Int64), reason.alias("reason"))
        )
        frame = frame.filter(~bad)
    return ParseResult(conform(frame.select(*fields, pl.col(LINE_COLUMN))), rejects)


def combine(parts: Iterable[ParseResult]) -> ParseResult:
    """Concatenate partial results, each part keeping its own order."""
    results = list(parts)
    if len(results) == 1:
        return results[0]
    if not results:
        return empty_result()
    # No re-sort: it would copy every event (raw lines included); ``_line`` says where each is from.
    events = pl.concat([r.events for r in results], how="vertical")
    rejects = pl.concat([r.rejects for r in results], how="vertical")
    return ParseResult(events, rejects)


def fill_where(frame: pl.DataFrame, need: pl.Expr, columns: dict[str, pl.Expr]) -> pl.DataFrame:
    """Set ``columns`` of ``frame`` on the rows where ``need`` holds, computed on those rows only.

    Other rows keep the column's current value (null for a new column). Polars
    evaluates every branch of ``when/then`` on every row; a field only some rows
    need (a fallback time, web filter URLs) is cheaper computed on those rows.
    """
    mask = frame.select(need.fill_null(False)).to_series()
    if not mask.any():
        return _with_nulls(frame, columns)
    if mask.all():
        return frame.with_columns(**columns)
    # Lazy, so only the columns ``columns`` read are filtered, not every column of the frame.
    values = frame.lazy().filter(mask).select(**columns).collect()
    return scatter_rows(frame, mask, values)


def with_numbers(
    frame: pl.DataFrame, numbers: Mapping[str, tuple[pl.Expr, pl.DataType]]
) -> pl.DataFrame:
    """Add integer columns read from text, ``name: (text, dtype)``, as ``fields.integer`` does.

    ``integer``'s second try (padding stripped) is made only on the rows where the plain
    cast left a non-blank text null, not on every row as ``when/then`` would (Polars
    evaluates both branches everywhere): a third of the cost. ``pl.UInt16`` reads a
    port (the cast is the range check) and gives it as Int32, as ``fields.port`` does.
    A null text (a field a row does not have) stays null.
    """

    def read(value: pl.Expr, dtype: pl.DataType) -> pl.Expr:
        return value.cast(pl.Int32) if dtype == pl.UInt16 else value

    frame = frame.with_columns(
        read(text.cast(dtype, strict=False), dtype).alias(name)
        for name, (text, dtype) in numbers.items()
    )
    failed = [
        pl.col(name).is_null() & (text.str.len_bytes() > 0) for name, (text, _) in numbers.items()
    ]
    return fill_where(
        frame,
        pl.any_horizontal(failed),
        {name: read(integer(text, dtype), dtype) for name, (text, dtype) in numbers.items()},
    )


def derive_where(
    frame: pl.DataFrame, need: pl.Expr, read: dict[str, pl.Expr], fields: dict[str, pl.Expr]
) -> pl.DataFrame:
    """Set ``fields`` of ``frame`` on the rows where ``need`` holds, computed there from ``read``.

    ``read`` (raw values, typically regex passes over the line) becomes columns first, so
    each is computed once however many fields use it; like ``fill_where``, other rows keep
    a field's current value (null for a new field), and rows that do not need the fields
    cost neither the reading nor the mapping.
    """
    mask = frame.select(need.fill_null(False)).to_series()
    if not mask.any():
        return _with_nulls(frame, fields, read)
    # Lazy, so only the columns the fields read are filtered, not every column of the frame.
    values = frame.lazy().filter(mask).with_columns(**read).select(**fields).collect()
    return scatter_rows(frame, mask, values)


def _with_nulls(
    frame: pl.DataFrame, columns: dict[str, pl.Expr], read: dict[str, pl.Expr] | None = None
) -> pl.DataFrame:
    """Return ``frame`` as ``fill_where`` leaves it when no row needs ``columns``.

    A column it lacks is added, all null, in the type ``columns`` would give it; one it
    has keeps its values (in that type). Only the types are worked out, nothing is computed.
    """
    lazy = frame.lazy() if read is None else frame.lazy().with_columns(**read)
    schema = lazy.select(**columns).collect_schema()
    have = frame.schema
    changed = [
        pl.col(name).cast(dtype) if name in have else pl.lit(None, dtype).alias(name)
        for name, dtype in schema.items()
        if have.get(name) != dtype
    ]
    return frame.with_columns(changed) if changed else frame


def scatter_rows(frame: pl.DataFrame, mask: pl.Series, values: pl.DataFrame) -> pl.DataFrame:
    """Set the columns of ``values`` (one row per true ``mask`` row, in order) into ``frame``.

    Rows where ``mask`` is false keep the column's current value, or null for a new column.
    """
    indices = mask.arg_true()
    filled = []
    for column in values.iter_columns():
        if column.name in frame.columns:
            current = frame.get_column(column.name).cast(column.dtype)
        else:
            current = pl.repeat(None, frame.height, dtype=column.dtype, eager=True)
        if len(indices):
            current = current.scatter(indices, column)
        filled.append(current.alias(column.name))
    return frame.with_columns(filled)
