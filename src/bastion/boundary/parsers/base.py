"""The parser registry: one module per log format, each registered under a name.

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
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from bastion.boundary.lines import Lines
from bastion.core.errors import FormatError
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
    """A registered log format.

    ``parse`` reads a column of lines. A format whose lines a CSV reader splits faster
    from the chunk's bytes also has ``read_chunk``, which gives the same result as
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


PARSERS: dict[str, Parser] = {}


def register(
    name: str, description: str, sniff: SniffFn, *, header_prefix: str | None = None
) -> Callable[[ParseFn], ParseFn]:
    """Register ``parse`` as the parser of format ``name`` (see ``Parser`` for ``header_prefix``)."""

    def decorate(parse: ParseFn) -> ParseFn:
        if name in PARSERS:
            msg = f"format {name!r} registered twice"
            raise ValueError(msg)
        PARSERS[name] = Parser(name, description, parse, sniff, header_prefix=header_prefix)
        return parse

    return decorate


def register_chunk_reader(name: str) -> Callable[[ReadFn], ReadFn]:
    """Give the registered format ``name`` a reader of whole chunks (see ``Parser``)."""

    def decorate(read: ReadFn) -> ReadFn:
        PARSERS[name] = replace(PARSERS[name], read_chunk=read)
        return read

    return decorate


def get_parser(name: str) -> Parser:
    """Return the parser registered as ``name``, or raise FormatError listing the choices."""
    try:
        return PARSERS[name]
    except KeyError:
        choices = ", ".join(sorted(PARSERS))
        msg = f"unknown log format {name!r}; choose one of {choices}"
        raise FormatError(msg) from None


def detect_format(sample: list[str], source: str = "<memory>") -> Parser:
    """Pick the one format that reads ``sample``; raise FormatError if none or several do.

    Each format first judges the sample whole (a Zeek log is told by its headers);
    if none accepts it, each line is judged on its own and a format that reads most
    of them wins, so one malformed line does not hide the format of the rest.
    """
    lines = [line for line in sample if line.strip()][:20]
    whole = sorted(p.name for p in PARSERS.values() if p.sniff(lines))
    if not whole:
        votes = {p.name: sum(p.sniff([line]) for line in lines) for p in PARSERS.values()}
        best = max(votes.values(), default=0)
        if best * 2 > len(lines):
            whole = sorted(name for name, count in votes.items() if count == best)
    if len(whole) == 1:
        return PARSERS[whole[0]]
    if not whole:
        msg = f"{source}: cannot tell the log format; give it with --format"
        raise FormatError(msg)
    msg = f"{source}: format is ambiguous ({', '.join(whole)}); give it with --format"
    raise FormatError(msg)
