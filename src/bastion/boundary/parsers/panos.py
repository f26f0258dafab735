"""Palo Alto Networks PAN-OS CSV syslog ("panos"): splitting records into their fields.

Fields are read by position (``panos_records`` names them, says which log types are
read and maps them to the schema). A syslog header before the record is
optional. Fields holding commas or quotes are CSV-quoted (``"a,b"``, ``""``
for a quote); only lines holding a quote pay for quote-aware splitting.

URL fields come from THREAT records whose URL/file name field is a URL: every
``url`` record, and threats found in HTTP (``host/path``); a bare file name
(virus, wildfire) is not one. ``observer.name`` is the syslog host, else the
record's device name.

A record shorter than every PAN-OS version writes its log type (``MIN_FIELDS``) is
rejected, not read: a line cut short in transit still has the leading fields, and
would otherwise pass as an event with its later fields missing.

Lines are split with ``str.splitn`` on the leading fields; where the chunk's bytes
are at hand, ``read_panos`` gives them to the CSV reader whole, which splits them
faster still (docs/parsers.md has the figures).
"""

from __future__ import annotations

from functools import cache

import polars as pl

from bastion.boundary.lines import Lines
from bastion.boundary.parsers.base import ParseContext, Parser, ParseResult
from bastion.boundary.parsers.panos_records import (
    FIELDS,
    LATE_FIELDS,
    MIN_FIELDS,
    PROOF_FIELDS,
    TAIL_FIELDS,
    protect_quoted_commas,
    result,
    unquote,
)
from bastion.boundary.parsers.results import (
    ORIGINAL,
    combine,
    fill_where,
    line_frame,
    scatter_rows,
)
from bastion.boundary.parsers.sniffing import sniffer
from bastion.boundary.syslog import split_syslog

_CSV_SCHEMA = {f"column_{i + 1}": pl.String() for i in range(256)}  # fields a record may have
_SPLIT = 39  # split off fields 0-37, and the rest of the record in field 38
# "<14>Jun  2 00:00:01 fw01 1": an RFC 3164 header, then the record's first field (digits).
_QUICK_RECORD = (
    r"^(?<header>(?:<[0-9]{1,3}>)?[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} "
    r"(?<host>[A-Za-z0-9_.-]+) )[0-9]*,"
)  # the same header, before the record's first field
_QUICK_HEADER = (
    r"^(?:<[0-9]{1,3}>)?[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} "
    r"([A-Za-z0-9_.-]+) [0-9]*$"
)


def _split_plain(records: pl.Series) -> pl.DataFrame:
    """Return the fields of records without quotes (split on every comma), plus ``_rest``.

    ``_fields`` is each record's field count: the commas after the split, counted in
    ``_rest`` alone, or in the whole record where it has too few fields to have a rest.
    """
    parts = records.str.splitn(",", _SPLIT).struct.unnest()
    columns = [pl.col(f"field_{i}").alias(name) for i, name in FIELDS.items()]
    frame = parts.select(
        *columns,
        pl.col("field_0").alias("_head"),
        pl.col(f"field_{_SPLIT - 1}").alias("_rest"),
    )
    rest = frame.get_column("_rest")
    fields = rest.str.count_matches(",", literal=True) + _SPLIT
    short = rest.is_null()
    if short.any():
        counts = records.filter(short).str.count_matches(",", literal=True) + 1
        fields = fields.scatter(short.arg_true(), counts)
    return frame.with_columns(fields.alias("_fields"))


def _late_fields(frame: pl.DataFrame, need: pl.Expr) -> pl.DataFrame:
    """Add the fields after the split, read from ``_rest`` on the rows that need them.

    ``LATE_FIELDS`` on the rows where ``need`` holds; ``TAIL_FIELDS`` on the records
    long enough to hold them (PAN-OS 10 and later), wherever they are.
    """
    log_type = pl.col("type")
    for kind, wanted in [*LATE_FIELDS.items(), *TAIL_FIELDS.items()]:
        rows = log_type == kind
        rows = (
            rows & need
            if wanted is LATE_FIELDS.get(kind)
            else rows & (pl.col("_fields") > min(wanted))
        )
        rest = pl.col("_rest").str.splitn(",", max(wanted) - _SPLIT + 3)
        columns = {name: rest.struct.field(f"field_{i - _SPLIT + 1}") for i, name in wanted.items()}
        frame = fill_where(frame, rows, columns)
    return frame


def _plain(frame: pl.DataFrame, year: int) -> pl.DataFrame:
    """Add the fields of records without quotes, split on the whole line.

    A syslog header (which holds no comma) then sits in field 0 with the record's
    own first field, so the header is read from that short field alone.
    """
    frame = frame.hstack(_split_plain(frame.get_column(ORIGINAL)))
    head = frame.get_column("_head")
    has_header = ~head.str.contains(r"^[0-9]*$")
    hosts = pl.repeat(None, frame.height, dtype=pl.String, eager=True)
    if has_header.any():
        # Most firewalls send the plain RFC 3164 header: read its host with one anchored
        # regex, and leave the general header parser the rest (a fifth of the cost).
        quick = head.str.extract(_QUICK_HEADER, 1)
        hosts = quick
        general = has_header & quick.is_null()
        if general.any():
            header = split_syslog(head.filter(general), year)
            hosts = hosts.scatter(general.arg_true(), header.get_column("syslog.hostname"))
        # A header holding commas (RFC 5424 structured data) shifts the fields: re-split.
        shifted = has_header & ~frame.get_column("receive_time").str.contains(r"^[0-9]{4}/")
        if shifted.any():
            records = split_syslog(frame.get_column(ORIGINAL).filter(shifted), year)
            frame = scatter_rows(frame, shifted, _split_plain(records.get_column("message")))
            hosts = hosts.scatter(shifted.arg_true(), records.get_column("syslog.hostname"))
    frame = frame.with_columns(hosts.alias("syslog.hostname"), _quotes=pl.lit(0, pl.UInt32))
    # The device name is only needed where the syslog header does not name the device.
    return _late_fields(frame, pl.col("syslog.hostname").is_null() | (pl.col("type") == "THREAT"))


def _read_csv(data: bytes, *, head: bool = False) -> pl.DataFrame | None:
    """Return the wanted fields of CSV records ``data``, or None if the CSV reader refuses them.

    ``head``: also field 0 as ``_head`` (where a syslog header sits, with the record's
    own first field). Empty fields read as "", as splitting on commas gives them.
    """
    positions, columns = _csv_plan(head=head)
    try:
        table = pl.read_csv(
            data,
            has_header=False,
            # As wide as any record, so the fields read do not depend on the first record's length.
            schema=_CSV_SCHEMA,
            columns=positions,
            new_columns=[f"f{i}" for i in positions],
            truncate_ragged_lines=True,
            quote_char='"',
            empty_string_is_null=False,
        )
    except pl.exceptions.PolarsError:
        return None  # a stray quote
    return table.select(columns)


@cache
def _csv_plan(*, head: bool) -> tuple[list[int], list[pl.Expr]]:
    """Return the field positions the CSV reader reads, and the columns made of them.

    Built once: every chunk reuses them.
    """
    # Only the wanted fields: reading all of a record's fields costs three times as much.
    by_type = {
        kind: {**LATE_FIELDS.get(kind, {}), **TAIL_FIELDS.get(kind, {})} for kind in MIN_FIELDS
    }
    positions = sorted(
        {
            *FIELDS,
            *(i for wanted in by_type.values() for i in wanted),
            *(i for fields in PROOF_FIELDS.values() for i in fields),
        }
    )
    positions = [0, *positions] if head else positions
    log_type = pl.col("f3")
    columns = [pl.col(f"f{i}").alias(name) for i, name in FIELDS.items()]
    # A late field is the one of the record's own log type, wherever each type has it.
    names = sorted({name for wanted in by_type.values() for name in wanted.values()})
    for name in names:
        value = pl.lit(None, pl.String)
        for kind, wanted in by_type.items():
            for i, field in wanted.items():
                if field == name:
                    value = pl.when(log_type == kind).then(pl.col(f"f{i}")).otherwise(value)
        columns.append(value.alias(name))
    proven = pl.lit(value=False)
    for kind, fields in PROOF_FIELDS.items():
        for i in fields:
            proven = proven | ((log_type == kind) & (pl.col(f"f{i}").str.len_bytes() > 0))
    columns.append(proven.alias("_proven"))
    return positions, columns + ([pl.col("f0").alias("_head")] if head else [])


def _quoted(frame: pl.DataFrame, year: int) -> pl.DataFrame:
    """Add the fields of records holding quotes, read by the CSV reader.

    Should the reader refuse them (a stray quote), their quoted commas are
    protected and they are split on commas like records without quotes.
    """
    text = frame.get_column(ORIGINAL)
    # The plain RFC 3164 header by one anchored regex; any other header by the general parser.
    quick = text.str.extract_groups(_QUICK_RECORD)
    host = quick.struct.field("host")
    record = text.str.slice(quick.struct.field("header").str.len_bytes())
    general = record.is_null()
    if general.any():
        header = split_syslog(text.filter(general), year)
        at = general.arg_true()
        host = host.scatter(at, header.get_column("syslog.hostname"))
        record = record.scatter(at, header.get_column("message"))
    frame = frame.with_columns(host.alias("syslog.hostname"), record.alias("_record")).with_columns(
        _quotes=pl.col("_record").str.count_matches('"', literal=True)
    )
    balanced = frame.get_column("_quotes") % 2 == 0
    fields = None
    if balanced.any():
        records = frame.get_column("_record").filter(balanced)
        fields = _read_csv(records.str.join("\n").item().encode())
        if fields is not None and fields.height != len(records):
            fields = None  # a quote left open swallowed a line break
    if fields is not None and balanced.all():
        return frame.hstack(fields)
    if fields is not None:
        frame = scatter_rows(frame, balanced, fields)
        rest = ~balanced  # rejected for their quotes; split only to name them
    else:
        rest = pl.repeat(True, frame.height, eager=True)
    protected = frame.filter(rest).select(protect_quoted_commas(pl.col("_record"))).to_series()
    split = _split_plain(protected)
    split = _late_fields(split, pl.lit(True)).drop("_head", "_rest")
    return scatter_rows(frame, rest, split.select(pl.exclude("_fields").pipe(unquote), "_fields"))


def _field_count(record: pl.Expr) -> pl.Expr:
    """Count a CSV record's fields: its commas outside quoted fields, plus one."""
    outside = record.str.replace_all(r'"[^"]*"', "")
    return (outside.str.count_matches(",", literal=True) + 1).cast(pl.UInt32)


def _with_field_counts(frame: pl.DataFrame) -> pl.DataFrame:
    """Set ``_fields`` where a record of a minimum length is not proven long enough yet.

    The line split counted every record's fields; the CSV reader proves most records
    long enough by a field they end with (``_proven``); the rest are counted here.
    """
    if "_fields" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.UInt32).alias("_fields"))
    if "_proven" not in frame.columns:
        frame = frame.with_columns(_proven=pl.lit(value=False))
    record = pl.col("_record") if "_record" in frame.columns else pl.col(ORIGINAL)
    need = (
        pl.col("_fields").is_null()
        & ~pl.col("_proven").fill_null(value=False)
        & pl.col("type").is_in(list(MIN_FIELDS))
    )
    return fill_where(frame, need, {"_fields": _field_count(record)})


def _result(frame: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    """Check the split records and map the good ones (``panos_records.result``)."""
    return result(_with_field_counts(frame), ctx.timezone)


_sniff = sniffer(
    r"(?:^|[ >])[0-9]*,[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2},[^,]*,[A-Z]+,"
)


def parse_panos(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse PAN-OS CSV records (with or without a syslog header) into the common schema.

    Events come in two groups, records without quotes then records with quotes,
    each in input order; ``_line`` maps every event to its line.
    """
    frame = line_frame(lines)
    quoted = frame.get_column(ORIGINAL).str.contains('"', literal=True)
    results = []
    if not quoted.all():
        results.append(_result(_plain(frame.filter(~quoted), ctx.default_year), ctx))
    if quoted.any():
        results.append(_result(_quoted(frame.filter(quoted), ctx.default_year), ctx))
    return combine(results)


def read_panos(lines: Lines, ctx: ParseContext) -> ParseResult:
    """Parse a chunk as ``parse_panos`` does, reading its fields from the chunk's bytes.

    The CSV reader splits the whole chunk at once, syslog headers included (a
    plain RFC 3164 header holds no comma: it sits in field 0 with the record's
    first field), which costs less than half of splitting each line on commas.
    It is taken when the bytes prove it safe: one row per line, no blank line, no
    carriage return, every header plain or absent and every quote closed; any
    other chunk is parsed line by line.
    """
    assert lines.data is not None
    frame = line_frame(lines.text)
    fields = None
    if frame.height == len(lines) and lines.data.find(b"\r") < 0:
        fields = _read_csv(lines.data, head=True)
    if fields is None or fields.height != frame.height:
        return parse_panos(lines.text, ctx)
    head = fields.get_column("_head")
    host = head.str.extract(_QUICK_HEADER, 1)
    quotes = frame.get_column(ORIGINAL).str.count_matches('"', literal=True)
    if (host.is_null() & ~head.str.contains(r"^[0-9]*$")).any() or (quotes % 2 == 1).any():
        return parse_panos(lines.text, ctx)
    fields = fields.drop("_head").with_columns(host.alias("syslog.hostname"), _quotes=quotes)
    return _result(frame.hstack(fields), ctx)


PARSER = Parser(
    name="panos",
    description="Palo Alto Networks PAN-OS CSV syslog: TRAFFIC, THREAT, SYSTEM authentication",
    parse=parse_panos,
    sniff=_sniff,
    read_chunk=read_panos,
)
