"""What a log format is: a parser of lines into events and rejects, and how to tell its lines.

A parser is a pure function from a column of raw lines to events in the common
schema plus rejected lines. It never loops over lines in Python: it works on the
whole column with Polars expressions. A line it cannot read is a reject with a
reason, never an exception and never silently dropped; lines that are not events
by design (blank lines, and a format's header lines such as Zeek's ``#`` lines) are
neither, and ``Parser.count_blank`` counts them, so every line of a source is an
event, a reject or blank.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from bastion.boundary.lines import Lines
from bastion.core.events import empty_rejects

# A blank line holds nothing but these (ASCII whitespace; line endings are cut off already).
BLANK_CHARS = " \t\r\n\f\v"
# The longest value a reject reason quotes whole; the raw line is in the dead-letter sink.
REASON_VALUE_CHARS = 200


def is_blank(text: pl.Expr) -> pl.Expr:
    """Return true where a line is blank: neither an event nor a reject."""
    # Stripping and measuring costs half of a regex match per line.
    return text.str.strip_chars_start(BLANK_CHARS).str.len_bytes() == 0


def clip(value: pl.Expr, limit: int = REASON_VALUE_CHARS) -> pl.Expr:
    """Return ``value`` as a reject reason quotes it: whole up to ``limit`` characters.

    A longer value is cut to its first ``limit`` characters followed by
    ``…(N bytes)``, N its full size: a reason names what was wrong, and a 1 MB field
    quoted in full would make every report and reason count carry it.
    """
    text = value.cast(pl.String)
    cut = pl.concat_str(
        [
            text.str.slice(0, limit),
            pl.lit("…("),
            text.str.len_bytes().cast(pl.String),
            pl.lit(" bytes)"),
        ]
    )
    return pl.when(text.str.len_chars() > limit).then(cut).otherwise(text)


@dataclass
class ParseContext:
    """What a parser may know besides the lines themselves.

    ``state`` lives as long as one source (one file, one stream), so a format whose
    header sets the meaning of later lines (Zeek TSV ``#fields``) keeps it there
    across chunks.
    """

    source: str = "<memory>"
    default_year: int = 1970  # for syslog timestamps that carry no year (RFC 3164)
    timezone: str = "UTC"  # IANA name: the zone of device times that carry no offset
    received: datetime | None = None  # when the lines arrived; None: when they are parsed
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParseResult:
    """Events in the common schema (with ``_line``) and rejected lines (``_line``, ``reason``)."""

    events: pl.DataFrame
    rejects: pl.DataFrame = field(default_factory=empty_rejects)


ParseFn = Callable[[pl.Series, ParseContext], ParseResult]
ReadFn = Callable[[Lines, ParseContext], ParseResult]
SniffFn = Callable[[list[str]], bool]


@dataclass(frozen=True)
class Parser:
    """A log format, declared by its module and listed by name in ``registry.PARSERS``.

    ``parse`` reads a column of lines. A format whose lines a CSV reader splits faster
    from the chunk's bytes declares ``read_chunk`` too, which gives the same result as
    ``parse`` on the chunk's lines (a test holds each to that).
    """

    name: str
    description: str
    parse: ParseFn
    sniff: SniffFn  # given the first non-blank lines of a source, is it this format?
    read_chunk: ReadFn | None = None
    header_prefix: str | None = None  # lines starting so are headers, not data (Zeek: "#")

    def count_blank(self, text: pl.Series) -> int:
        """Count the lines that are neither events nor rejects: blank, or a header line."""
        frame = text.to_frame("line")
        blank = is_blank(pl.col("line"))
        if self.header_prefix is not None:
            blank = blank | pl.col("line").str.starts_with(self.header_prefix)
        return int(frame.select(blank.sum()).item())

    def read(self, lines: Lines, ctx: ParseContext) -> ParseResult:
        """Parse a chunk's lines, from its bytes where this format can."""
        if self.read_chunk is not None and lines.data is not None:
            return self.read_chunk(lines, ctx)
        return self.parse(lines.text, ctx)
