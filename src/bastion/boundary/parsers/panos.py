"""Palo Alto Networks PAN-OS CSV syslog ("panos"): TRAFFIC and THREAT records.

Fields are read by position, in the PAN-OS 9.1/10.x/11.x order (the leading
fields have not moved since PAN-OS 8). A syslog header before the record is
optional. Fields holding commas or quotes are CSV-quoted (``"a,b"``, ``""``
for a quote); only lines holding a quote pay for quote-aware splitting.

URL fields come from THREAT records whose URL/file name field is a URL: every
``url`` record, and threats found in HTTP (``host/path``); a bare file name
(virus, wildfire) is not one. ``observer.name`` is the syslog host, else the
record's device name.

A record shorter than every PAN-OS version writes its log type (``MIN_FIELDS``) is
rejected, not read: a line cut short in transit still has the leading fields, and
would otherwise pass as an event with its later fields missing.

Times are the record's generated time, read as UTC: PAN-OS writes times in the
firewall's own zone without saying which, so set the log timezone to UTC.

Lines are split with ``str.splitn`` on the leading fields; where the chunk's bytes
are at hand, ``read_panos`` gives them to the CSV reader whole, which splits them
faster still (docs/parsers.md has the figures).
"""

from __future__ import annotations

import polars as pl

from bastion.boundary.lines import Lines
from bastion.boundary.parsers.base import ParseContext, Parser, ParseResult, clip
from bastion.boundary.parsers.fields import (
    integer,
    not_number,
    null_if_blank,
    port,
    sha256,
    transport,
    verdict,
)
from bastion.boundary.parsers.results import (
    ORIGINAL,
    Check,
    combine,
    fill_where,
    finish_checked,
    line_frame,
    scatter_rows,
)
from bastion.boundary.parsers.sniffing import sniffer
from bastion.boundary.parsers.urls import url_parts
from bastion.boundary.syslog import split_syslog

ALLOWED = ["allow", "alert", "continue", "override"]
DENIED = [
    "deny",
    "drop",
    "drop-icmp",
    "drop-all",
    "drop-all-packets",
    "random-drop",
    "reset-client",
    "reset-server",
    "reset-both",
    "block-url",
    "block-ip",
    "block-continue",
    "block-override",
    "override-lockout",
    "sinkhole",
]
# PAN-OS App-ID names of the common application protocols, as ECS names them.
APP_PROTOCOLS = {
    "web-browsing": "http",
    "http-proxy": "http",
    "http2": "http",
    "ssl": "tls",
    "quic": "quic",
    "dns": "dns",
    "dns-base": "dns",
    "dns-over-https": "dns",
    "ssh": "ssh",
    "smtp": "smtp",
    "smtp-base": "smtp",
    "ftp": "ftp",
    "ntp": "ntp",
    "ntp-base": "ntp",
    "ldap": "ldap",
    "kerberos": "kerberos",
    "ms-rdp": "rdp",
    "ms-ds-smb": "smb",
    "ms-ds-smb-base": "smb",
    "snmp": "snmp",
    "snmp-base": "snmp",
    "sip": "sip",
    "imap": "imap",
    "pop3": "pop3",
    "telnet": "telnet",
}

# The fields read, by position. 31-33 differ: bytes (TRAFFIC) or URL, threat, category (THREAT).
_FIELDS = {
    1: "receive_time",
    3: "type",
    4: "subtype",
    6: "generated_time",
    7: "src",
    8: "dst",
    11: "rule",
    14: "app",
    24: "sport",
    25: "dport",
    29: "proto",
    30: "action",
    31: "f31",
    32: "f32",
    33: "f33",
}
_LATE_FIELDS = {  # per log type, fields after 33: read only on the rows that need them
    "TRAFFIC": {52: "device_name"},
    "THREAT": {43: "file_digest", 46: "user_agent", 59: "device_name", 63: "method"},
}
# The fields every record of a log type has: PAN-OS 8.1 and later write at least 65 for
# TRAFFIC (through SCTP Chunks Received) and 75 for THREAT (through HTTP Headers).
MIN_FIELDS = {"TRAFFIC": 65, "THREAT": 75}
# Fields set in every record that has them (SCTP Chunks Received; Rule UUID, HTTP/2
# Connection): where the CSV reader finds one set, the record is long enough without
# counting its fields.
_PROOF_FIELDS = {"TRAFFIC": (64,), "THREAT": (76, 77)}
_CSV_SCHEMA = {f"column_{i + 1}": pl.String() for i in range(256)}  # fields a record may have
_SPLIT = 35  # split off fields 0-33, and the rest of the record in field 34
_PLACEHOLDER = "\x1f"
# "<14>Jun  2 00:00:01 fw01 1": an RFC 3164 header, then the record's first field (digits).
_QUICK_RECORD = (
    r"^(?<header>(?:<[0-9]{1,3}>)?[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} "
    r"(?<host>[A-Za-z0-9_.-]+) )[0-9]*,"
)  # the same header, before the record's first field
_QUICK_HEADER = (
    r"^(?:<[0-9]{1,3}>)?[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} "
    r"([A-Za-z0-9_.-]+) [0-9]*$"
)  # stands for a comma inside quotes while a record is split on commas


def _split_plain(records: pl.Series) -> pl.DataFrame:
    """Return the fields of records without quotes (split on every comma), plus ``_rest``.

    ``_fields`` is each record's field count: the commas after the split, counted in
    ``_rest`` alone, or in the whole record where it has too few fields to have a rest.
    """
    parts = records.str.splitn(",", _SPLIT).struct.unnest()
    columns = [pl.col(f"field_{i}").alias(name) for i, name in _FIELDS.items()]
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
    """Add the fields after the split, read from ``_rest`` on the rows where ``need`` holds."""
    for log_type, wanted in _LATE_FIELDS.items():
        rest = pl.col("_rest").str.splitn(",", max(wanted) - _SPLIT + 3)
        columns = {name: rest.struct.field(f"field_{i - _SPLIT + 1}") for i, name in wanted.items()}
        frame = fill_where(frame, need & (pl.col("type") == log_type), columns)
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
    # Only the wanted fields: reading all of a record's fields costs three times as much.
    positions = sorted(
        {
            *_FIELDS,
            *(i for late in _LATE_FIELDS.values() for i in late),
            *(i for fields in _PROOF_FIELDS.values() for i in fields),
        }
    )
    positions = [0, *positions] if head else positions
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
    log_type = pl.col("f3")
    columns = [pl.col(f"f{i}").alias(name) for i, name in _FIELDS.items()]
    for kind, wanted in _LATE_FIELDS.items():
        columns += [
            pl.when(log_type == kind).then(pl.col(f"f{i}")).alias(f"{name}_{kind}")
            for i, name in wanted.items()
        ]
    proven = pl.lit(value=False)
    for kind, fields in _PROOF_FIELDS.items():
        for i in fields:
            proven = proven | ((log_type == kind) & (pl.col(f"f{i}").str.len_bytes() > 0))
    columns.append(proven.alias("_proven"))
    table = table.select(columns + ([pl.col("f0").alias("_head")] if head else []))
    device = pl.coalesce(pl.col("device_name_TRAFFIC"), pl.col("device_name_THREAT"))
    late = {name for wanted in _LATE_FIELDS.values() for name in wanted.values()}
    return table.select(
        *(pl.col(name) for name in _FIELDS.values()),
        device.alias("device_name"),
        *(pl.col(f"{name}_THREAT").alias(name) for name in sorted(late - {"device_name"})),
        pl.col("_proven"),
        *([pl.col("_head")] if head else []),
    )


def _protect_quoted_commas(record: pl.Expr) -> pl.Expr:
    """Replace the commas inside quoted fields with a placeholder, so commas split fields."""
    pieces = record.str.split('"')
    inside = pl.int_range(pl.len()) % 2 == 1  # every other piece lies between quotes
    return pieces.list.eval(
        pl.when(inside)
        .then(pl.element().str.replace_all(",", _PLACEHOLDER, literal=True))
        .otherwise(pl.element())
    ).list.join('"')


def _unquote(field: pl.Expr) -> pl.Expr:
    """Return a CSV field without its quotes, with ``""`` and protected commas restored."""
    inner = field.str.strip_prefix('"').str.strip_suffix('"')
    return inner.str.replace_all('""', '"', literal=True).str.replace_all(
        _PLACEHOLDER, ",", literal=True
    )


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
    protected = frame.filter(rest).select(_protect_quoted_commas(pl.col("_record"))).to_series()
    split = _split_plain(protected)
    split = _late_fields(split, pl.lit(True)).drop("_head", "_rest")
    return scatter_rows(frame, rest, split.select(pl.exclude("_fields").pipe(_unquote), "_fields"))


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


def _result(frame: pl.DataFrame) -> ParseResult:
    """Check the split records and map the good ones to the schema."""
    col = pl.col
    log_type = col("type")
    traffic, threat = log_type == "TRAFFIC", log_type == "THREAT"
    frame = _with_field_counts(frame)
    minimum = (
        pl.when(traffic)
        .then(pl.lit(MIN_FIELDS["TRAFFIC"], pl.UInt32))
        .when(threat)
        .then(pl.lit(MIN_FIELDS["THREAT"], pl.UInt32))
    )

    def timestamp(field: str) -> pl.Expr:
        return (
            col(field)
            .str.strptime(pl.Datetime("us"), "%Y/%m/%d %H:%M:%S", strict=False)
            .dt.replace_time_zone("UTC")
        )

    # The receive time stands in only where the generated time does not read.
    frame = fill_where(
        frame.with_columns(_time=timestamp("generated_time")),
        col("_time").is_null(),
        {"_time": timestamp("receive_time")},
    ).with_columns(
        _sport=port(col("sport")),
        _dport=port(col("dport")),
        _bytes=pl.when(traffic).then(integer(col("f31"), pl.Int64())),
        _sent=pl.when(traffic).then(integer(col("f32"), pl.Int64())),
        _received=pl.when(traffic).then(integer(col("f33"), pl.Int64())),
    )
    # THREAT-only fields are computed on THREAT rows only.
    scheme = pl.when((col("_dport") == 443) | (col("app") == "ssl")).then(pl.lit("https"))
    url_full, url_domain, url_path = url_parts(
        null_if_blank(col("f31")), scheme.otherwise(pl.lit("http"))
    )
    # URL records log a URL; threats found in HTTP (a vulnerability exploit) log one too,
    # written host/path; threats in files (virus, wildfire) log a bare file name.
    http_target = col("f31").str.contains(
        r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?[A-Za-z0-9.-]+(?::[0-9]+)?/"
    )
    frame = fill_where(
        frame,
        threat & ((col("subtype") == "url") | http_target),
        {"url.full": url_full, "url.domain": url_domain, "url.path": url_path},
    )
    # "Eicar Test File(39040)": the threat's name, then its id; URL records carry "(9999)".
    frame = fill_where(
        frame, threat, {"_threat_name": null_if_blank(col("f32").str.replace(r" ?\([0-9]+\)$", ""))}
    )
    checks: list[Check] = [
        (
            col("action").is_null() | ~col("generated_time").str.contains(r"^[0-9]{4}/"),
            "panos: not a PAN-OS CSV record (need at least 31 comma-separated fields, "
            "the 7th a time like 2025/11/25 13:01:02)",
        ),
        (
            col("_quotes") % 2 == 1,
            "panos: unbalanced double quotes; a quoted field is not closed",
        ),
        (
            ~(traffic | threat),
            pl.format(
                "panos: log type {} is not supported (read: TRAFFIC, THREAT)", clip(log_type)
            ),
        ),
        (
            col("_fields") < minimum,
            pl.format(
                "panos: {} record has {} fields, needs at least {} (the line was cut short?)",
                log_type,
                col("_fields"),
                minimum,
            ),
        ),
        (
            col("_time").is_null(),
            pl.format(
                "panos: generated time {} is not YYYY/MM/DD hh:mm:ss", clip(col("generated_time"))
            ),
        ),
        (
            not_number(col("sport"), col("_sport")),
            pl.format("panos: source port {} is not a port number", clip(col("sport"))),
        ),
        (
            not_number(col("dport"), col("_dport")),
            pl.format("panos: destination port {} is not a port number", clip(col("dport"))),
        ),
        (
            traffic
            & (
                not_number(col("f31"), col("_bytes"))
                | not_number(col("f32"), col("_sent"))
                | not_number(col("f33"), col("_received"))
            ),
            pl.format(
                "panos: TRAFFIC bytes {},{},{} are not numbers",
                clip(col("f31")),
                clip(col("f32")),
                clip(col("f33")),
            ),
        ),
    ]
    action = col("action").str.to_lowercase()
    fields = [
        col("_time").alias("@timestamp"),
        pl.when(traffic)
        .then(pl.lit("panos.traffic"))
        .otherwise(pl.lit("panos.threat"))
        .alias("event.dataset"),
        action.alias("event.action"),
        verdict(col("action"), ALLOWED, DENIED).alias("event.type"),
        pl.lit("Palo Alto Networks").alias("observer.vendor"),
        pl.lit("PAN-OS").alias("observer.product"),
        pl.coalesce(col("syslog.hostname"), null_if_blank(col("device_name"))).alias(
            "observer.name"
        ),
        col("src").alias("source.ip"),
        col("_sport").alias("source.port"),
        col("_sent").alias("source.bytes"),
        col("dst").alias("destination.ip"),
        col("_dport").alias("destination.port"),
        col("_received").alias("destination.bytes"),
        transport(col("proto")).alias("network.transport"),
        col("app").replace_strict(APP_PROTOCOLS, default=None).alias("network.protocol"),
        col("_bytes").alias("network.bytes"),
        col("url.full"),
        col("url.domain"),
        col("url.path"),
        null_if_blank(col("method")).str.to_uppercase().alias("http.request.method"),
        null_if_blank(col("user_agent")).alias("user_agent.original"),
        sha256(col("file_digest")).alias("file.hash.sha256"),
        pl.coalesce(col("_threat_name"), null_if_blank(col("rule"))).alias("rule.name"),
        col(ORIGINAL),
    ]
    return finish_checked(frame, checks, fields)


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
        results.append(_result(_plain(frame.filter(~quoted), ctx.default_year)))
    if quoted.any():
        results.append(_result(_quoted(frame.filter(quoted), ctx.default_year)))
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
    return _result(frame.hstack(fields))


PARSER = Parser(
    name="panos",
    description="Palo Alto Networks PAN-OS CSV syslog: TRAFFIC and THREAT",
    parse=parse_panos,
    sniff=_sniff,
    read_chunk=read_panos,
)
