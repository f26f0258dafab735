"""What PAN-OS records hold and mean: field positions, action verdicts, the schema mapping.

``panos`` splits the lines into the fields named here; ``result`` checks them and maps
them to the common schema. Positions are those of the PAN-OS 10.x/11.x syslog field
lists; the leading fields have not moved since PAN-OS 8, and later versions only add
fields at the end, so a field past a record's end is simply absent.

Log types read: TRAFFIC, THREAT, and the SYSTEM records of authentications
(event id ``auth-fail`` / ``auth-success``: an administrator's or a portal user's
login), read as ``event.category`` authentication with ``event.outcome``. Every other
record type (CONFIG, HIP-MATCH, GLOBALPROTECT, USERID, other SYSTEM events …) is
rejected with the reason "PAN-OS <TYPE> records are not read"; the rest of the source
is read.

Time: the record's generated time, read in the source's time zone
(``ParseContext.timezone``: ``--timezone`` of ``bastion boundary ingest``, default UTC),
since PAN-OS writes it in the firewall's own zone without saying which. A record that
carries its High Resolution Timestamp (PAN-OS 10 and later: ``2021-11-16T11:14:58.908-08:00``)
is read from that: the offset in the record wins.

Threat context: a THREAT record's threat name and id (PAN-OS writes ``Name(12345)``) go
to ``threat.name`` / ``threat.id``, its severity and threat category to
``threat.severity`` / ``threat.category``. URL records (subtype ``url``) log no threat
(their id is the placeholder ``(9999)``): their ``threat.*`` stay null and their
category is ``url.category``. ``rule.name`` is always the security policy.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from bastion.boundary.parsers.base import ParseResult, clip
from bastion.boundary.parsers.fields import (
    ip_address,
    localise,
    not_number,
    null_if_blank,
    port,
    sha256,
    transport,
    user_parts,
)
from bastion.boundary.parsers.results import (
    ORIGINAL,
    Check,
    combine,
    derive_where,
    fill_where,
    finish_checked,
    with_numbers,
)
from bastion.boundary.parsers.urls import url_parts

# Every action PAN-OS logs, and what it means for the connection: one table.
# None is a documented unknown: the device does not say whether the traffic passed.
ACTIONS: dict[str, str | None] = {
    "allow": "allowed",
    "alert": "allowed",  # a threat logged, the traffic let through
    "continue": "allowed",  # the user clicked on through a continue page
    "override": "allowed",  # the user gave the override password
    "deny": "denied",
    "drop": "denied",
    "drop-icmp": "denied",
    "drop-all": "denied",
    "drop-all-packets": "denied",
    "drop-packet": "denied",
    "random-drop": "denied",
    "reset-client": "denied",
    "reset-server": "denied",
    "reset-both": "denied",
    "block": "denied",
    "block-url": "denied",
    "block-ip": "denied",
    "block-continue": "denied",  # a continue page shown, the request not let through
    "block-override": "denied",
    "override-lockout": "denied",
    "sinkhole": "denied",  # a DNS answer replaced with the sinkhole address
    # A SYN cookie was sent: the session goes on only if the client answers it.
    "syncookie-sent": None,
    "syn-cookie": None,
    "not-applicable": None,
}

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

# The leading fields, read from every record by position. Their meaning depends on the
# log type: 31-34 are bytes (TRAFFIC) or URL, threat, category, severity (THREAT);
# in a SYSTEM record 8 is the event id, 14 the description and 25 the High Resolution
# Timestamp (its device name, field 22, is read on SYSTEM rows alone: ``_system_auth``).
FIELDS = {
    1: "receive_time",
    3: "type",
    4: "subtype",
    6: "generated_time",
    7: "src",
    8: "dst",
    9: "nat_src",
    10: "nat_dst",
    11: "rule",
    12: "src_user",
    13: "dst_user",
    14: "app",
    24: "sport",
    25: "dport",
    26: "nat_sport",
    27: "nat_dport",
    29: "proto",
    30: "action",
    31: "f31",
    32: "f32",
    33: "f33",
    34: "f34",
    37: "f37",
}
# Per log type, fields after the leading ones: read only on the rows that need them.
LATE_FIELDS = {
    "TRAFFIC": {52: "device_name"},
    "THREAT": {
        43: "file_digest",
        46: "user_agent",
        59: "device_name",
        63: "method",
        69: "threat_category",
    },
}
# Fields PAN-OS 10.x/11.x add at the end: read on the records long enough to hold them.
TAIL_FIELDS = {
    "TRAFFIC": {102: "high_res_time", 108: "app_risk"},
    "THREAT": {107: "high_res_time", 114: "app_risk"},
}
# The fields every record of a log type has: PAN-OS 8.1 and later write at least 65 for
# TRAFFIC (through SCTP Chunks Received), 75 for THREAT (through HTTP Headers) and 23 for
# SYSTEM (through Device Name).
MIN_FIELDS = {"TRAFFIC": 65, "THREAT": 75, "SYSTEM": 23}
# Fields set in every record that has them (SCTP Chunks Received; Rule UUID, HTTP/2
# Connection): where the CSV reader finds one set, the record is long enough without
# counting its fields. SYSTEM records (few) are counted.
PROOF_FIELDS = {"TRAFFIC": (64,), "THREAT": (76, 77)}
_PLACEHOLDER = "\x1f"  # stands for a comma inside quotes while a record is split on commas
# SYSTEM event ids read, as authentication outcomes.
AUTH_EVENTS = {"auth-fail": "failure", "auth-success": "success"}

_TIME_FORMAT = "%Y/%m/%d %H:%M:%S"
# "failed authentication for user 'admin'.   Reason: … From: 10.0.0.5."
_AUTH_USER = r"user '([^']*)'"
_AUTH_FROM = r"From: ?([0-9A-Fa-f.:]+[0-9A-Fa-f])"


def protect_quoted_commas(record: pl.Expr) -> pl.Expr:
    """Replace the commas inside quoted fields with a placeholder, so commas split fields."""
    pieces = record.str.split('"')
    inside = pl.int_range(pl.len()) % 2 == 1  # every other piece lies between quotes
    return pieces.list.eval(
        pl.when(inside)
        .then(pl.element().str.replace_all(",", _PLACEHOLDER, literal=True))
        .otherwise(pl.element())
    ).list.join('"')


def unquote(field: pl.Expr) -> pl.Expr:
    """Return a CSV field without its quotes, with ``""`` and protected commas restored."""
    inner = field.str.strip_prefix('"').str.strip_suffix('"')
    return inner.str.replace_all('""', '"', literal=True).str.replace_all(
        _PLACEHOLDER, ",", literal=True
    )


def _times(frame: pl.DataFrame, timezone: str) -> pl.DataFrame:
    """Add ``_time``: the High Resolution Timestamp where the record has one, else local time.

    The generated time (the receive time where it does not read) is read in
    ``timezone``; a generated time written with an offset keeps it.
    """
    col = pl.col
    local, fallback, high_res_time = _time_columns(timezone)
    frame = frame.with_columns(_time=local)
    frame = fill_where(frame, col("_time").is_null(), {"_time": fallback})
    high_res = col("high_res_time")
    if (frame.get_column("type") == "SYSTEM").any():
        # SYSTEM records carry theirs in field 25 (read as the destination port's position).
        high_res = pl.when(col("type") == "SYSTEM").then(col("dport")).otherwise(high_res)
        high_res_time = pl.coalesce(_zoned(high_res), col("_time"))
    return fill_where(
        frame,
        high_res.str.len_bytes() > 20,  # shorter: no ISO time with a zone
        {"_time": high_res_time},
    )


def _zoned(field: pl.Expr) -> pl.Expr:
    """Return the UTC time of an ISO 8601 time with its offset (or ``Z``)."""
    return (
        field.str.replace(r"Z$", "+00:00")
        .str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%.f%:z", strict=False)
        .dt.convert_time_zone("UTC")
    )


@cache
def _time_columns(timezone: str) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Return the generated time, its fallback and the High Resolution one, for ``timezone``.

    Built once per zone: every chunk of a source reuses them.
    """
    col = pl.col

    def local(field: str) -> pl.Expr:
        naive = col(field).str.strptime(pl.Datetime("us"), _TIME_FORMAT, strict=False)
        return localise(naive, timezone)

    fallback = pl.coalesce(_zoned(col("generated_time")), local("receive_time"))
    return (
        local("generated_time"),
        fallback,
        pl.coalesce(_zoned(col("high_res_time")), col("_time")),
    )


def _threat_and_url(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the URL, threat, user and NAT fields, each computed on the rows that have them."""
    need, read, fields = _url_read()
    frame = derive_where(frame, need, read, fields)
    for need, columns in _where_read():
        frame = fill_where(frame, need, columns)
    return frame


@cache
def _url_read() -> tuple[pl.Expr, dict[str, pl.Expr], dict[str, pl.Expr]]:
    """Return the rows holding a URL, the URL and its scheme, and the url.* fields of them.

    The URL and scheme are made columns first: ``url_parts`` reads each several times
    (read as expressions, they cost twice as much).
    """
    col = pl.col
    # URL records log a URL; threats found in HTTP (a vulnerability exploit) log one too,
    # written host/path; threats in files (virus, wildfire) log a bare file name.
    http_target = col("f31").str.contains(
        r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?[A-Za-z0-9.-]+(?::[0-9]+)?/"
    )
    need = (col("type") == "THREAT") & ((col("subtype") == "url") | http_target)
    scheme = pl.when((col("_dport") == 443) | (col("app") == "ssl")).then(pl.lit("https"))
    read = {"_url": null_if_blank(col("f31")), "_scheme": scheme.otherwise(pl.lit("http"))}
    url_full, url_domain, url_path = url_parts(col("_url"), col("_scheme"))
    return need, read, {"url.full": url_full, "url.domain": url_domain, "url.path": url_path}


@cache
def _where_read() -> list[tuple[pl.Expr, dict[str, pl.Expr]]]:
    """Return the fields only some records have, each group with the rows it is read on.

    Built once: every chunk reuses the expressions.
    """
    col = pl.col
    threat = col("type") == "THREAT"
    name, domain = user_parts(col("src_user"))
    dst_name, _ = user_parts(col("dst_user"))
    # NAT: a translated address other than 0.0.0.0, or a translated port other than 0.
    # (Comparisons, not ``is_in``: a third of the cost.)
    nat = pl.any_horizontal(
        *(null_if_blank(col(f), "0.0.0.0").is_not_null() for f in ("nat_src", "nat_dst")),
        *(null_if_blank(col(f), "0").is_not_null() for f in ("nat_sport", "nat_dport")),
    )
    return [
        # "Eicar Test File(39040)": the threat's name, then its id.
        (
            threat & (col("subtype") != "url"),
            {
                "threat.name": null_if_blank(col("f32").str.replace(r" ?\([0-9]+\)$", "")),
                "threat.id": col("f32").str.extract(r"\(([0-9]+)\)$", 1),
                "threat.severity": null_if_blank(col("f34").str.to_lowercase()),
                "threat.category": null_if_blank(col("threat_category").str.to_lowercase()),
            },
        ),
        (col("src_user").str.len_bytes() > 0, {"user.name": name, "user.domain": domain}),
        (col("dst_user").str.len_bytes() > 0, {"destination.user.name": dst_name}),
        (
            nat,
            {
                "source.nat.ip": ip_address(null_if_blank(col("nat_src"), "0.0.0.0")),
                "source.nat.port": _nat_port("nat_sport"),
                "destination.nat.ip": ip_address(null_if_blank(col("nat_dst"), "0.0.0.0")),
                "destination.nat.port": _nat_port("nat_dport"),
            },
        ),
    ]


def _system_auth(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the user, source address and device name of SYSTEM authentication records.

    User and address come from the description (field 14); the device name (field 22)
    is split from the record here, on these few rows, with quoted commas protected.
    """
    description = pl.col("app")
    fields = protect_quoted_commas(pl.col(ORIGINAL)).str.splitn(",", 24)
    return frame.with_columns(
        _auth_user=description.str.extract(_AUTH_USER, 1),
        _auth_from=ip_address(description.str.extract(_AUTH_FROM, 1)),
        _device=unquote(fields.struct.field("field_22")),
    )


@cache
def _checks() -> list[Check]:
    """Return the checks a record must pass, in order; the first it fails is its reason."""
    col = pl.col
    log_type = col("type")
    network = log_type.is_in(["TRAFFIC", "THREAT"])
    traffic = log_type == "TRAFFIC"
    minimum = pl.lit(None, pl.UInt32)
    for kind, count in MIN_FIELDS.items():
        minimum = pl.when(log_type == kind).then(pl.lit(count, pl.UInt32)).otherwise(minimum)
    return [
        (
            log_type.is_null() | ~col("generated_time").str.contains(r"^[0-9]{4}[/-][0-9]{2}"),
            "panos: not a PAN-OS CSV record (need at least 7 comma-separated fields, "
            "the 7th a time like 2025/11/25 13:01:02)",
        ),
        (
            col("_quotes") % 2 == 1,
            "panos: unbalanced double quotes; a quoted field is not closed",
        ),
        (
            ~log_type.is_in(list(MIN_FIELDS)),
            pl.format(
                "panos: PAN-OS {} records are not read (read: TRAFFIC, THREAT, "
                "SYSTEM authentication)",
                clip(log_type),
            ),
        ),
        (
            (log_type == "SYSTEM") & ~col("dst").is_in(list(AUTH_EVENTS)),
            pl.format(
                "panos: PAN-OS SYSTEM records are not read, except authentications "
                "(event id {}; read: auth-fail, auth-success)",
                clip(col("dst")),
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
            network & col("_src").is_null(),
            pl.format("panos: source address {} is not an IP address", clip(col("src"))),
        ),
        (
            network & col("_dst").is_null(),
            pl.format("panos: destination address {} is not an IP address", clip(col("dst"))),
        ),
        (
            network & not_number(col("sport"), col("_sport")),
            pl.format("panos: source port {} is not a port number", clip(col("sport"))),
        ),
        (
            network & not_number(col("dport"), col("_dport")),
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


def _nat_port(field: str) -> pl.Expr:
    """A NAT port: port 0 is no translation."""
    value = port(pl.col(field))
    return pl.when(value != 0).then(value)


@cache
def _network_fields() -> list[pl.Expr]:
    """The schema's fields of TRAFFIC and THREAT records."""
    col = pl.col
    threat = col("type") == "THREAT"
    return [
        col("_time").alias("@timestamp"),
        pl.when(threat)
        .then(pl.lit("panos.threat"))
        .otherwise(pl.lit("panos.traffic"))
        .alias("event.dataset"),
        col("_action").alias("event.action"),
        col("_action")
        .replace_strict(ACTIONS, default=None, return_dtype=pl.String)
        .alias("event.type"),
        pl.lit("Palo Alto Networks").alias("observer.vendor"),
        pl.lit("PAN-OS").alias("observer.product"),
        pl.coalesce(col("syslog.hostname"), null_if_blank(col("device_name"))).alias(
            "observer.name"
        ),
        col("_src").alias("source.ip"),
        col("_sport").alias("source.port"),
        col("_sent").alias("source.bytes"),
        col("_dst").alias("destination.ip"),
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
        null_if_blank(col("rule")).alias("rule.name"),
        col("source.nat.ip"),
        col("source.nat.port"),
        col("destination.nat.ip"),
        col("destination.nat.port"),
        col("user.name"),
        col("user.domain"),
        col("destination.user.name"),
        col("threat.name"),
        col("threat.id"),
        col("threat.category"),
        col("threat.severity"),
        # Field 33 of THREAT records, 37 of TRAFFIC ("any": no category looked up).
        # (Each field tested on its own: the chosen one, tested, costs twice as much.)
        pl.when(threat)
        .then(null_if_blank(col("f33"), "any"))
        .otherwise(null_if_blank(col("f37"), "any"))
        .alias("url.category"),
        null_if_blank(col("app")).alias("network.application"),  # App-IDs are lower-case
        null_if_blank(col("app_risk")).alias("network.application_risk"),
        col(ORIGINAL),
    ]


@cache
def _system_fields() -> list[pl.Expr]:
    """The schema's fields of SYSTEM authentication records."""
    col = pl.col
    name, domain = user_parts(col("_auth_user"))
    return [
        col("_time").alias("@timestamp"),
        pl.lit("panos.system").alias("event.dataset"),
        col("dst").alias("event.action"),  # field 8: the event id
        pl.lit("authentication").alias("event.category"),
        col("dst").replace_strict(AUTH_EVENTS, default=None).alias("event.outcome"),
        pl.lit("Palo Alto Networks").alias("observer.vendor"),
        pl.lit("PAN-OS").alias("observer.product"),
        pl.coalesce(col("syslog.hostname"), null_if_blank(col("_device"))).alias("observer.name"),
        col("_auth_from").alias("source.ip"),
        name.alias("user.name"),
        domain.alias("user.domain"),
        col(ORIGINAL),
    ]


@cache
def _record_columns() -> dict[str, pl.Expr]:
    """Return the addresses and action every record is checked by."""
    col = pl.col
    return {
        "_src": ip_address(col("src")),
        "_dst": ip_address(col("dst")),
        "_action": col("action").str.to_lowercase(),
    }


@cache
def _numbers() -> dict[str, tuple[pl.Expr, pl.DataType]]:
    """Return the ports and byte counts every record is checked by (``with_numbers``)."""
    col = pl.col
    traffic = col("type") == "TRAFFIC"
    return {
        "_sport": (col("sport"), pl.UInt16()),
        "_dport": (col("dport"), pl.UInt16()),
        "_bytes": (pl.when(traffic).then(col("f31")), pl.Int64()),
        "_sent": (pl.when(traffic).then(col("f32")), pl.Int64()),
        "_received": (pl.when(traffic).then(col("f33")), pl.Int64()),
    }


def result(frame: pl.DataFrame, timezone: str) -> ParseResult:
    """Check the split records and map the good ones to the schema.

    SYSTEM records are mapped apart, on their own rows, so TRAFFIC and THREAT records
    (nearly every row) pay nothing for them.
    """
    for name in ("threat_category", "high_res_time", "app_risk"):
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(name))
    frame = with_numbers(_times(frame, timezone).with_columns(**_record_columns()), _numbers())
    frame = _threat_and_url(frame)
    checks = _checks()
    system = (frame.get_column("type") == "SYSTEM").fill_null(value=False)
    if not system.any():
        return finish_checked(frame, checks, _network_fields())
    return combine(
        [
            finish_checked(frame.filter(~system), checks, _network_fields()),
            finish_checked(_system_auth(frame.filter(system)), checks, _system_fields()),
        ]
    )
