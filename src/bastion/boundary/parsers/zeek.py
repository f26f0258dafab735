"""Zeek logs, TSV with ``#`` headers ("zeek") and JSON lines ("zeek-json").

Both read the Zeek fields they know into text columns named as Zeek names them, and
one mapping turns those into the common schema, so TSV and JSON agree field for field:

- every log: ``ts`` → @timestamp, ``id.orig_h/p`` → source, ``id.resp_h/p`` →
  destination, ``proto`` → network.transport; ``event.dataset`` is ``zeek.<path>``;
- conn: ``service`` → network.protocol, ``orig_bytes``/``resp_bytes`` →
  source.bytes/destination.bytes, network.bytes their sum;
- dns: ``query``, ``qtype_name``, ``rcode_name`` → dns.question.name/type, dns.response_code;
  ``answers`` (all of them, comma-separated) → dns.answers, ``rejected`` → dns.rejected,
  ``Z`` → dns.z (the fields Sigma's Zeek DNS rules test);
- http: ``host``, ``uri``, ``method``, ``status_code``, ``user_agent``, ``referrer``
  (→ http.request.referrer); url.full is
  ``http://`` + host (the responder's address when there is no Host header) + uri;
- ssl: ``server_name`` → tls.server.name, ``ja3``/``ja4`` (package fields) → tls.client.*;
- x509: the first ``san.dns`` name (else the subject's CN) → tls.server.name, so a
  certificate for a listed domain is found like an SNI; ``fingerprint`` (Zeek's SHA-256
  of the certificate) → file.hash.sha256, since Zeek handles certificates as files;
- notice: ``note`` → rule.name, ``src``/``dst``/``p`` fill source/destination when the
  connection id is unset; weird: ``name`` → rule.name, ``peer`` → observer.name.

Any other log type still yields events with the common fields, as ``zeek.<path>``.
Values keep Zeek's ``\\xNN`` escapes: they are evidence, and unescaping would hide them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Any

import numpy as np
import polars as pl

from bastion.boundary.lines import Lines
from bastion.boundary.parsers.base import ParseContext, Parser, ParseResult, clip
from bastion.boundary.parsers.fields import (
    add_bytes,
    domain,
    epoch_seconds,
    integer,
    iso_timestamp,
    not_number,
    null_if_blank,
    port,
    sha256,
    transport,
)
from bastion.boundary.parsers.jsonlines import decode_json_column
from bastion.boundary.parsers.results import (
    ORIGINAL,
    REASON,
    checked,
    combine,
    finish,
    line_frame,
    non_blank,
)
from bastion.boundary.parsers.sniffing import json_sniffer
from bastion.boundary.parsers.urls import path_of
from bastion.core.events import LINE_COLUMN

# Zeek fields the mapping reads. Vector fields keep only their first element.
MAPPED_FIELDS = (
    "ts",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "orig_bytes",
    "resp_bytes",
    "query",
    "qtype_name",
    "rcode_name",
    "answers",
    "rejected",
    "Z",
    "host",
    "referrer",
    "uri",
    "method",
    "status_code",
    "user_agent",
    "server_name",
    "ja3",
    "ja4",
    "fingerprint",
    "san.dns",
    "certificate.subject",
    "note",
    "src",
    "dst",
    "p",
    "name",
    "peer",
)
VECTOR_FIELDS = frozenset({"san.dns"})
# Zeek's JSON writer may give times as epoch milliseconds (json_timestamps=JSON::TS_MILLIS):
# no time in epoch seconds reaches this (it is in the year 5138).
_MILLIS_FROM = 1e11
# Numeric fields whose value, when set, must read as such (else the line is rejected).
_PORTS = ("id.orig_p", "id.resp_p", "p")
_COUNTS = ("orig_bytes", "resp_bytes", "status_code")
# Zeek writes a bool as T/F in TSV and true/false in JSON.
_BOOLEANS = {"T": True, "F": False, "true": True, "false": False}
# The application protocol a log type implies when it has no ``service`` column.
_PROTOCOL_OF_PATH = {"dns": "dns", "http": "http", "ssl": "ssl"}
# Fields whose presence tells a JSON line's log type when it carries no ``_path``.
_JSON_TYPE_HINTS = (
    ("dns", ("query", "trans_id", "qtype_name", "rcode_name")),
    ("http", ("trans_depth", "method", "status_code", "uri")),
    ("ssl", ("server_name", "cipher", "established", "ssl_history")),
    ("x509", ("fingerprint", "certificate.subject", "certificate.version")),
    ("notice", ("note",)),
    ("weird", ("addl", "peer")),
    ("conn", ("conn_state", "history", "service")),
)


def to_events(
    raw: pl.LazyFrame,
    path: pl.Expr,
    col: Callable[[str], pl.Expr],
    line_checks: Sequence[tuple[pl.Expr, pl.Expr | str]] = (),
    *,
    json_ts: bool = False,
    present: Callable[[str], bool] = lambda name: True,
) -> pl.LazyFrame:
    """Map a frame of Zeek fields as text (nulls when unset) to the schema.

    ``col`` gives the expression of a Zeek field (a null literal when the log lacks it, so
    Polars folds it away); ``path`` is the log type per row (null when unknown). ``_reason``
    tells why a line is rejected: the first of ``line_checks`` that fails, else a numeric
    field that does not read. ``json_ts`` also reads ``ts`` as Zeek's JSON writer may give it:
    ISO 8601 text, or epoch milliseconds;
    ``present`` tells whether the log has a field at all.
    """
    label = pl.concat_str([pl.lit("zeek "), path]).fill_null(pl.lit("zeek"))
    ts = epoch_seconds(col("ts"))
    if json_ts:
        seconds = col("ts").cast(pl.Float64, strict=False)
        ts = epoch_seconds(pl.when(seconds >= _MILLIS_FROM).then(seconds / 1000).otherwise(seconds))
        # Only where the epoch reading failed: parsing text as dates is the costly part.
        ts = pl.coalesce(ts, iso_timestamp(pl.when(ts.is_null()).then(col("ts"))))
    # Each number is read once, into a column the checks and the mapping both use.
    number = {f: pl.col(f"_number {f}") for f in (*_PORTS, *_COUNTS)}
    raw = raw.with_columns(
        ts.alias("@timestamp"),
        *[port(col(f)).alias(f"_number {f}") for f in _PORTS],
        *[integer(col(f)).alias(f"_number {f}") for f in _COUNTS],
    )
    checks: list[tuple[pl.Expr, pl.Expr | str]] = [
        *line_checks,
        (col("ts").is_null(), label + pl.lit(": field 'ts' is missing")),
        (pl.col("@timestamp").is_null(), label + pl.lit(": field 'ts' is not a number")),
    ]
    checks += [
        (not_number(col(f), number[f]), label + pl.lit(f": field '{f}' is not a port number"))
        for f in _PORTS
    ]
    checks += [
        (not_number(col(f), number[f]), label + pl.lit(f": field '{f}' is not a count"))
        for f in _COUNTS
    ]
    source_bytes, destination_bytes = number["orig_bytes"], number["resp_bytes"]
    # The Host header may carry a port; an IPv6 responder needs brackets in a URL.
    host_name = col("host").str.replace(r"^\[([^\]]*)\](?::\d+)?$|:\d+$", "$1")
    responder = (
        pl.when(col("id.resp_h").str.contains(":"))
        .then(pl.concat_str([pl.lit("["), col("id.resp_h"), pl.lit("]")]))
        .otherwise(col("id.resp_h"))
    )
    # Only http logs have a uri: do not spend a pass per line building null URLs elsewhere.
    url_full = pl.lit(None, pl.String)
    if present("uri"):
        url_full = pl.concat_str(
            [pl.lit("http://"), pl.coalesce(col("host"), responder), col("uri")]
        )
    common_name = col("certificate.subject").str.extract(r"(?:^|,)CN=([^,]*)", 1)
    is_weird = path == "weird"
    return raw.select(
        *checked(checks),
        pl.col("@timestamp"),
        pl.concat_str([pl.lit("zeek."), path]).fill_null(pl.lit("zeek")).alias("event.dataset"),
        pl.lit("zeek").alias("observer.vendor"),
        pl.lit("zeek").alias("observer.product"),
        col("peer").alias("observer.name"),
        pl.coalesce(col("id.orig_h"), col("src")).alias("source.ip"),
        number["id.orig_p"].alias("source.port"),
        source_bytes.alias("source.bytes"),
        pl.coalesce(col("id.resp_h"), col("dst")).alias("destination.ip"),
        pl.coalesce(number["id.resp_p"], number["p"]).alias("destination.port"),
        destination_bytes.alias("destination.bytes"),
        transport(col("proto")).alias("network.transport"),
        pl.coalesce(
            null_if_blank(col("service").str.to_lowercase()),
            path.replace_strict(_PROTOCOL_OF_PATH, default=None, return_dtype=pl.String),
        ).alias("network.protocol"),
        add_bytes(source_bytes, destination_bytes).alias("network.bytes"),
        url_full.alias("url.full"),
        domain(host_name).alias("url.domain"),
        path_of(col("uri")).alias("url.path"),
        null_if_blank(col("method").str.to_uppercase()).alias("http.request.method"),
        number["status_code"].cast(pl.Int32, strict=False).alias("http.response.status_code"),
        null_if_blank(col("user_agent")).alias("user_agent.original"),
        domain(col("query")).alias("dns.question.name"),
        null_if_blank(col("qtype_name")).alias("dns.question.type"),
        null_if_blank(col("rcode_name")).alias("dns.response_code"),
        null_if_blank(col("answers")).alias("dns.answers"),
        col("rejected")
        .replace_strict(_BOOLEANS, default=None, return_dtype=pl.Boolean)
        .alias("dns.rejected"),
        col("Z").cast(pl.Int8, strict=False).alias("dns.z"),
        null_if_blank(col("referrer")).alias("http.request.referrer"),
        domain(pl.coalesce(col("server_name"), null_if_blank(col("san.dns")), common_name)).alias(
            "tls.server.name"
        ),
        null_if_blank(col("ja3").str.to_lowercase()).alias("tls.client.ja3"),
        null_if_blank(col("ja4")).alias("tls.client.ja4"),
        sha256(col("fingerprint")).alias("file.hash.sha256"),
        pl.coalesce(col("note"), pl.when(is_weird).then(col("name"))).alias("rule.name"),
    )


# ---------------------------------------------------------------------------- TSV


@dataclass(frozen=True)
class ZeekHeader:
    """What a Zeek TSV header block says about the data lines after it."""

    separator: str = "\t"
    set_separator: str = ","
    empty_field: str = "(empty)"
    unset_field: str = "-"
    path: str | None = None
    fields: tuple[str, ...] | None = None


_STATE_KEY = "zeek.header"


def _apply_header(header: ZeekHeader, line: str) -> ZeekHeader:
    """Return ``header`` updated by one ``#`` line."""
    if line.startswith("#separator"):
        value = line[len("#separator") :].strip()
        # A new #separator starts a new log: forget the previous block.
        return ZeekHeader(separator=re.sub(r"\\x([0-9a-fA-F]{2})", _unhex, value) or "\t")
    key, _, value = line.partition(header.separator)
    if key == "#fields":
        return replace(header, fields=tuple(value.split(header.separator)))
    if key == "#path":
        return replace(header, path=value.strip() or None)
    if key == "#set_separator":
        return replace(header, set_separator=value)
    if key == "#empty_field":
        return replace(header, empty_field=value)
    if key == "#unset_field":
        return replace(header, unset_field=value)
    return header  # #types, #open, #close, and comments carry nothing we map


def _unhex(match: re.Match[str]) -> str:
    return chr(int(match.group(1), 16))


def _split_fields(run: pl.DataFrame, header: ZeekHeader, wanted: dict[str, int]) -> pl.LazyFrame:
    """Return the run's wanted fields as text, split from its lines, and each line's field count."""
    sep = header.separator
    text = pl.col(ORIGINAL)
    # Keep the split as one column and pick fields from it, so the line is split only once.
    split = run.lazy().select(
        LINE_COLUMN,
        ORIGINAL,
        text.str.split_exact(sep, max(wanted.values())).alias("_parts"),
        (text.str.count_matches(sep, literal=True) + 1).alias("_found"),
    )
    return split.select(
        LINE_COLUMN,
        ORIGINAL,
        "_found",
        *[pl.col("_parts").struct.field(f"field_{i}").alias(name) for name, i in wanted.items()],
    )


def _read_fields(
    run: pl.DataFrame, header: ZeekHeader, wanted: dict[str, int], data: bytes
) -> pl.LazyFrame | None:
    """Return the run's wanted fields read from its bytes by the CSV reader, or None.

    The reader skips splitting the fields nobody reads. It is used only when the bytes
    prove every line has exactly the header's fields (the separators add up and no
    line comes up short), so the lines it reads are the lines the split would see;
    otherwise None, and the run is split line by line with a reason for each bad line.
    """
    expected = len(header.fields or ())
    sep = header.separator.encode()
    if len(sep) != 1 or b"\r" in data:
        return None
    # numpy counts a byte several times faster than bytes.count
    separators = int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == sep[0]))
    if separators != (expected - 1) * run.height:
        return None
    last = expected - 1
    columns = sorted({*wanted.values(), last})
    try:
        read = pl.read_csv(
            data,
            has_header=False,
            separator=header.separator,
            quote_char=None,
            columns=columns,
            new_columns=[f"f{i}" for i in columns],
            infer_schema=False,
            empty_string_is_null=False,
        )
    except pl.exceptions.PolarsError:
        return None
    if read.height != run.height or read.get_column(f"f{last}").null_count():
        return None  # a blank or short line: the line by line path names it
    return run.lazy().select(
        LINE_COLUMN,
        ORIGINAL,
        pl.lit(expected).alias("_found"),
        *[read.get_column(f"f{i}").alias(name) for name, i in wanted.items()],
    )


def _parse_run(run: pl.DataFrame, header: ZeekHeader, data: bytes | None = None) -> ParseResult:
    """Parse consecutive data lines that share one header block (``data``: their bytes)."""
    if data is None:
        run = non_blank(run)
    if header.fields is None:
        reason = "zeek: data line before any '#fields' header; read the log from its start"
        return finish(non_blank(run).with_columns(pl.lit(reason).alias(REASON)))
    label = f"zeek {header.path}" if header.path else "zeek"
    if "ts" not in header.fields:
        reason = f"{label}: the '#fields' header has no 'ts' field, so no line has a time"
        return finish(non_blank(run).with_columns(pl.lit(reason).alias(REASON)))
    wanted = {f: i for i, f in enumerate(header.fields) if f in MAPPED_FIELDS}
    split = None if data is None else _read_fields(run, header, wanted, data)
    if split is None:
        split = _split_fields(non_blank(run), header, wanted)

    def value(name: str) -> pl.Expr:
        field = pl.col(name)
        cleaned = (
            pl.when(field == header.unset_field)
            .then(None)
            .when(field == header.empty_field)
            .then(pl.lit(""))
            .otherwise(field)
        )
        if name in VECTOR_FIELDS:
            cleaned = cleaned.str.splitn(header.set_separator, 2).struct.field("field_0")
        return cleaned.alias(name)

    raw = split.select(LINE_COLUMN, ORIGINAL, "_found", *[value(name) for name in wanted])
    expected = len(header.fields)
    count_reason = pl.concat_str(
        [pl.lit(f"{label}: expected {expected} fields, found "), pl.col("_found").cast(pl.String)]
    )
    path = pl.lit(header.path, pl.String)

    def column(name: str) -> pl.Expr:
        return pl.col(name) if name in wanted else pl.lit(None, pl.String)

    checks = [(pl.col("_found") != expected, count_reason)]
    events = to_events(raw, path, column, checks, present=wanted.__contains__)
    return finish(events.collect())


def _sniff_tsv(lines: list[str]) -> bool:
    return bool(lines) and (
        lines[0].startswith("#separator") or any(line.startswith("#fields\t") for line in lines)
    )


def parse_zeek_tsv(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse Zeek TSV lines; the header block is kept in ``ctx.state`` for later chunks."""
    return _parse_tsv(line_frame(lines, keep_blank=True), ctx, None)


def read_zeek_tsv(lines: Lines, ctx: ParseContext) -> ParseResult:
    """Parse a chunk of Zeek TSV as ``parse_zeek_tsv`` does, reading its runs as CSV bytes."""
    return _parse_tsv(line_frame(lines.text, keep_blank=True), ctx, lines)


def _parse_tsv(frame: pl.DataFrame, ctx: ParseContext, lines: Lines | None) -> ParseResult:
    header: ZeekHeader = ctx.state.get(_STATE_KEY, ZeekHeader())
    headers = frame.filter(pl.col(ORIGINAL).str.starts_with("#"))
    results: list[ParseResult] = []

    def run(start: int, stop: int) -> None:
        if stop > start:
            data = None
            if lines is not None and lines.data is not None:
                first, end = lines.span(start, stop)
                data = lines.data if (first, end) == (0, len(lines.data)) else lines.data[first:end]
            results.append(_parse_run(frame.slice(start, stop - start), header, data))

    start = 0
    # A loop over header lines, not events: a chunk has a handful at most.
    for index, line in headers.select(LINE_COLUMN, ORIGINAL).iter_rows():
        run(start, index)
        header = _apply_header(header, line)
        start = index + 1
    run(start, frame.height)
    ctx.state[_STATE_KEY] = header
    return combine(results)


# --------------------------------------------------------------------------- JSON

_JSON_FIELDS = sorted(
    {*MAPPED_FIELDS, "_path"} | {f for _, hints in _JSON_TYPE_HINTS for f in hints}
)
# Zeek writes sets and vectors as JSON arrays, everything else as one value. The fields
# read that are a set or vector in some log (``service`` is text in conn, a set in
# known_services) decode as lists; a one-value field decodes as a list of one.
_JSON_LISTS = frozenset({"service", "answers", *VECTOR_FIELDS})
_JSON_DTYPE = pl.Struct(
    {f: pl.List(pl.String) if f in _JSON_LISTS else pl.String for f in _JSON_FIELDS}
)
# Should a log hold an array in any other field read, its lines decode as lists throughout:
# slower, so only when the first way fails.
_JSON_LISTS_EVERYWHERE = pl.Struct({f: pl.List(pl.String) for f in _JSON_FIELDS})
# Zeek names each log's file after its path (conn.log, dns.04:00:00-05:00:00.log.gz):
# the log type of JSON lines that carry no ``_path``.
ZEEK_LOGS = frozenset(
    {
        "analyzer", "conn", "dce_rpc", "dhcp", "dnp3", "dns", "dpd", "files", "ftp", "http",
        "intel", "irc", "kerberos", "known_certs", "known_hosts", "known_modbus",
        "known_services", "modbus", "mysql", "notice", "ntlm", "ntp", "ocsp", "pe", "quic",
        "radius", "rdp", "rfb", "sip", "smb_files", "smb_mapping", "smtp", "snmp", "socks",
        "software", "ssh", "ssl", "syslog", "traceroute", "tunnel", "weird", "x509",
    }
)  # fmt: skip
_LOG_FILE = re.compile(r"^([a-z0-9_]+)\.(?:.*\.)?log(?:\.|$)")


def _json_value(name: str, dtype: pl.DataType) -> pl.Expr:
    """Return a decoded field as Zeek's TSV writes it: a set or vector joined by commas.

    Vector fields the mapping reads one element of keep their first, as in TSV.
    """
    values = pl.col(name)
    if not isinstance(dtype, pl.List):
        return values
    if name in VECTOR_FIELDS:
        return values.list.first().alias(name)
    return values.list.join(",").alias(name)


def _log_of_file(source: str) -> str | None:
    """Return the Zeek log type a file's name gives (``…/dns.log.gz`` → dns), or None."""
    match = _LOG_FILE.match(PurePath(source).name)
    return match.group(1) if match and match.group(1) in ZEEK_LOGS else None


def _json_path(source: str) -> pl.Expr:
    """Return each decoded JSON line's log type: ``_path``, the file's name, else its fields."""
    inferred = pl.lit(None, pl.String)
    for path, hints in reversed(_JSON_TYPE_HINTS):
        present = pl.any_horizontal([pl.col(f).is_not_null() for f in hints])
        inferred = pl.when(present).then(pl.lit(path)).otherwise(inferred)
    return pl.coalesce(
        null_if_blank(pl.col("_path")), pl.lit(_log_of_file(source), pl.String), inferred
    )


def _is_zeek_json(record: dict[str, Any]) -> bool:
    return (
        "ts" in record
        and "@timestamp" not in record
        and any(
            k in record for k in ("uid", "id.orig_h", "_path", "fingerprint", "fuid", "port_num")
        )
    )


def parse_zeek_json(lines: pl.Series, ctx: ParseContext) -> ParseResult:
    """Parse Zeek JSON lines, one log record per line, as the same log in TSV would read.

    A line the decoder refuses is rejected with what is wrong with it, found by
    looking at that line alone (``json_problem``).
    """
    frame = line_frame(lines)
    decoded = decode_json_column(frame, _JSON_DTYPE, _JSON_LISTS_EVERYWHERE).unnest("_json")
    raw = decoded.with_columns(
        _json_value(f, decoded.schema[f]) for f in _JSON_FIELDS
    ).with_columns(_json_path(ctx.source).alias("_path"))
    checks: list[tuple[pl.Expr, pl.Expr | str]] = [
        (
            pl.col("_error").is_not_null(),
            pl.concat_str([pl.lit("zeek-json: "), clip(pl.col("_error"))]),
        ),
        (~pl.col("_object"), "zeek-json: not a JSON object"),
    ]
    return finish(to_events(raw.lazy(), pl.col("_path"), pl.col, checks, json_ts=True).collect())


TSV_PARSER = Parser(
    name="zeek",
    description="Zeek TSV logs with # headers (conn, dns, http, ssl, x509, notice, weird …)",
    parse=parse_zeek_tsv,
    sniff=_sniff_tsv,
    read_chunk=read_zeek_tsv,
    header_prefix="#",
)


JSON_PARSER = Parser(
    name="zeek-json",
    description="Zeek JSON lines (type from _path or inferred from the fields)",
    parse=parse_zeek_json,
    sniff=json_sniffer(_is_zeek_json),
)
