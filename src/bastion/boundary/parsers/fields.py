"""Normalise parsed fields the same way in every parser: one answer for each input.

Every helper takes and returns Polars expressions over text columns, so parsers built
on them stay columnar. The rules, whichever format a value comes from:

- blank text (empty) is null;
- a host or DNS name is lower-case with every trailing dot stripped;
- a port is decimal text, surrounding spaces allowed, in 0-65535; else null;
- a transport is a lower-case IANA keyword; a protocol number becomes its keyword;
- an integer is decimal text, surrounding spaces allowed, in its type's range; else null;
- a SHA-256 digest is 64 hex digits, lower-cased; else null;
- a verdict is ``denied`` or ``allowed`` from the device's action word, any case;
- an IP address column holds an IPv4 dotted quad or an IPv6 address, never a name;
- a user written ``DOMAIN\\user`` or ``user@domain`` is split into name and domain;
- a device time written without an offset is in the source's time zone
  (``ParseContext.timezone``, the ``--timezone`` of ``bastion boundary ingest``):
  ``localise`` makes it UTC. A time that carries its own offset keeps it.

Names (transports, action words, host names) are taken as written, only lower-cased;
numbers and digests may carry spaces around them.

Polars does not share a sub-expression that appears in both the test and a branch of
``when/then``, so a second use computes an expensive input (a regex, a split) twice.
``integer``, ``port``, ``sha256`` and ``add_bytes`` read their input twice (a cheap
test first spares the costly step on most rows): pass them columns. For the same
reason parsers put costly intermediates in columns of their own before mapping. Regular
expressions use ASCII classes (``[0-9]``, not ``\\d``): the Unicode classes make the
regex engine's automata several times bigger and slower on millions of lines.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from bastion.core.events import TIMESTAMP

# IANA "Assigned Internet Protocol Numbers", keyword lower-cased, for the protocols
# devices log; the spellings some devices use for ICMPv6 map to IANA's keyword too.
IANA_PROTOCOLS = {
    "1": "icmp",
    "2": "igmp",
    "6": "tcp",
    "17": "udp",
    "41": "ipv6",
    "47": "gre",
    "50": "esp",
    "51": "ah",
    "58": "ipv6-icmp",
    "89": "ospf",
    "103": "pim",
    "112": "vrrp",
    "132": "sctp",
    "136": "udplite",
}
_TRANSPORT_NAMES = {**IANA_PROTOCOLS, "icmpv6": "ipv6-icmp", "ipv6icmp": "ipv6-icmp", "": None}

DENY_WORDS = (
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
)
ALLOW_WORDS = ("allow", "allowed", "accept", "accepted", "permit", "permitted", "pass", "passed")

# What ``integer`` and ``port`` strip around a number.
_PADDING = " \t"


# The schema's columns that hold IP addresses as parsers fill them.
ADDRESSES = ("source.ip", "destination.ip", "source.nat.ip", "destination.nat.ip")


def null_if_blank(expr: pl.Expr, *blanks: str) -> pl.Expr:
    """Return ``expr`` with empty strings (and any of ``blanks``) turned into null."""
    # Comparisons, not ``replace``: a hash lookup per row costs several times as much.
    blank = expr.str.len_bytes() == 0
    for other in blanks:
        blank = blank | (expr == other)
    return pl.when(~blank).then(expr)


def domain(expr: pl.Expr) -> pl.Expr:
    """Normalise a host or DNS name: lower-case, no trailing dots, blank as null."""
    return null_if_blank(expr.str.to_lowercase().str.strip_chars_end("."))


def integer(expr: pl.Expr, dtype: pl.DataType = pl.Int64()) -> pl.Expr:
    """Cast decimal text (spaces around it allowed) to ``dtype``; anything else gives null.

    Pass a column, not a costly expression: it is read twice. The plain cast reads
    nearly every value; stripping every value first would cost three times as much.
    """
    plain = expr.cast(dtype, strict=False)
    return (
        pl.when(plain.is_not_null())
        .then(plain)
        .otherwise(expr.str.strip_chars(_PADDING).cast(dtype, strict=False))
    )


def port(expr: pl.Expr) -> pl.Expr:
    """Return a port number (0-65535) from text, null when it is not one."""
    # UInt16 holds exactly 0-65535: the cast is the range check.
    return integer(expr, pl.UInt16()).cast(pl.Int32)


def not_number(raw: pl.Expr, parsed: pl.Expr) -> pl.Expr:
    """Return true where ``raw`` holds text that ``parsed`` could not read as a number."""
    return raw.is_not_null() & (raw.str.len_bytes() > 0) & parsed.is_null()


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
    """Return the IANA keyword of a transport given by name or protocol number; blank is null."""
    # One lookup maps numbers to keywords and blank to null: half the cost of two passes.
    return expr.str.to_lowercase().replace(_TRANSPORT_NAMES)


def verdict(
    action: pl.Expr, allowed: Iterable[str] = ALLOW_WORDS, denied: Iterable[str] = DENY_WORDS
) -> pl.Expr:
    """Return "denied" or "allowed" for the device's action word (any case), else null.

    ``allowed`` and ``denied`` are the lower-case words a device uses; a format whose
    vocabulary is not known (CEF) takes the common English words. A word in both is denied.
    """
    words = {**dict.fromkeys(allowed, "allowed"), **dict.fromkeys(denied, "denied")}
    return action.str.to_lowercase().replace_strict(words, default=None, return_dtype=pl.String)


def sha256(expr: pl.Expr) -> pl.Expr:
    """Keep a value only if it is a SHA-256 hex digest (spaces around it allowed), lower-cased.

    Pass a column, not a costly expression: it is read twice.
    """
    # Test first, then normalise only what passes: most rows hold no digest at all.
    digest = expr.str.contains(r"^[ \t]*[0-9a-fA-F]{64}[ \t]*$")
    return pl.when(digest).then(expr.str.strip_chars(_PADDING).str.to_lowercase())


def epoch_seconds(expr: pl.Expr) -> pl.Expr:
    """Convert epoch seconds (text, fractions allowed) to a UTC timestamp; bad text gives null."""
    # NaN and infinities do not cast to integers, so they come out null too.
    micros = (expr.cast(pl.Float64, strict=False) * 1e6).round().cast(pl.Int64, strict=False)
    return pl.from_epoch(micros, time_unit="us").dt.replace_time_zone("UTC")


def epoch_millis(expr: pl.Expr) -> pl.Expr:
    """Convert integral epoch milliseconds (text) to a UTC timestamp; bad text gives null."""
    millis = expr.str.extract(r"^([0-9]{1,15})$", 1).cast(pl.Int64, strict=False)
    return pl.from_epoch(millis, time_unit="ms").cast(TIMESTAMP)


def user_parts(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Split a logged user into (name, domain): ``DOMAIN\\name``, ``name@domain`` or ``name``.

    Blank is null; a user without a domain has a null domain. Pass a column: it is read
    several times.
    """
    windows = expr.str.contains("\\", literal=True)
    name = (
        pl.when(windows)
        .then(expr.str.replace(r"^[^\\]*\\", ""))
        .otherwise(expr.str.replace(r"@[^@]*$", ""))
    )
    domain = (
        pl.when(windows)
        .then(expr.str.extract(r"^([^\\]*)\\", 1))
        .otherwise(expr.str.extract(r"@([^@]*)$", 1))
    )
    return null_if_blank(name), null_if_blank(domain)


def localise(naive: pl.Expr, timezone: str) -> pl.Expr:
    """Return naive device times (no offset) read as wall-clock times in ``timezone``, in UTC.

    ``timezone`` is an IANA name (``ParseContext.timezone``). In the hour repeated when
    clocks go back a time is read as the earlier of its two instants; a time in the hour
    skipped when clocks go forward (a device whose clock did not move on) is read one
    hour later, the instant it names. A null stays null.
    """
    if timezone == "UTC":
        return naive.dt.replace_time_zone("UTC")
    zoned = naive.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
    skipped = (naive + pl.duration(hours=1)).dt.replace_time_zone(
        timezone, ambiguous="earliest", non_existent="null"
    )
    return pl.coalesce(zoned, skipped).dt.convert_time_zone("UTC")


def iso_timestamp(expr: pl.Expr) -> pl.Expr:
    """Parse ISO 8601 text (``Z``, an offset, or none meaning UTC) to a UTC timestamp."""
    text = expr.str.strip_chars().str.replace(r"^([0-9]{4}-[0-9][0-9]-[0-9][0-9]) ", "${1}T")
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


def compress_ipv6(addresses: pl.Series) -> pl.Series:
    """Return the addresses with IPv6 ones lower-case in RFC 5952 short form.

    Some devices (netfilter) log every IPv6 group in full (``2001:0db8:0000:…``);
    the short form is what every other source writes, so indicators and hunts match.
    IPv4 and already-short addresses pass through; only rows holding a colon are touched.
    """
    mask = addresses.str.contains(":", literal=True).fill_null(False)
    if not mask.any():
        return addresses
    indices = mask.arg_true()
    # Leading zeros go first; then the longest run of two or more zero groups becomes "::".
    frame = pl.DataFrame({"ip": addresses.filter(mask)}).select(
        pl.concat_str(
            [
                pl.lit(":"),
                pl.col("ip").str.to_lowercase().str.replace_all(r"(^|:)0+([0-9a-f])", "${1}${2}"),
                pl.lit(":"),
            ]
        ).alias("ip")
    )
    ip = pl.col("ip")
    already_short = ip.str.contains("::", literal=True)
    shortened: pl.Expr = ip
    for run in range(2, 9):
        zeros = ":" + "0:" * run
        shortened = (
            pl.when(ip.str.contains(zeros, literal=True))
            .then(ip.str.replace(zeros, "::", literal=True))
            .otherwise(shortened)
        )
    unwrapped = (
        pl.when(already_short)
        .then(ip.str.slice(1, ip.str.len_chars() - 2))
        .otherwise(shortened.str.replace(r"^:([^:])", "${1}").str.replace(r"([^:]):$", "${1}"))
    )
    short = frame.select(unwrapped.alias("ip")).get_column("ip")
    return addresses.clone().scatter(indices, short)


_V4_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_V4 = rf"{_V4_OCTET}(?:\.{_V4_OCTET}){{3}}"
_H = r"[0-9A-Fa-f]{1,4}"
# RFC 4291 text forms: full, "::"-compressed, and the IPv4-embedded forms devices write.
_V6 = "|".join(
    [
        rf"(?:{_H}:){{7}}{_H}",
        rf"(?:{_H}:){{1,7}}:",
        rf"(?:{_H}:){{1,6}}:{_H}",
        rf"(?:{_H}:){{1,5}}(?::{_H}){{1,2}}",
        rf"(?:{_H}:){{1,4}}(?::{_H}){{1,3}}",
        rf"(?:{_H}:){{1,3}}(?::{_H}){{1,4}}",
        rf"(?:{_H}:){{1,2}}(?::{_H}){{1,5}}",
        rf"{_H}:(?::{_H}){{1,6}}",
        rf":(?:(?::{_H}){{1,7}}|:)",
        rf"(?:{_H}:){{6}}{_V4}",
        rf"::(?:[Ff]{{4}}(?::0{{1,4}})?:)?{_V4}",
    ]
)
IP_PATTERN = rf"^(?:{_V4}|{_V6})$"


def ip_address(expr: pl.Expr) -> pl.Expr:
    """Return the value where it is an IPv4 or IPv6 address (as written), else null.

    A device that writes a host name, an object name or garbage where an address goes
    must not put it in an address column: hunts, indicators and attribution compare
    addresses. The IPv4 form is strict (no leading zeros, octets to 255), as Python's
    ``ipaddress`` reads it.
    """
    return pl.when(expr.str.contains(IP_PATTERN)).then(expr)


def pattern_verdict(action: pl.Expr, table: dict[str, str]) -> pl.Expr:
    """Return "denied" or "allowed" by the first kind of ``table`` pattern ``action`` holds.

    ``table`` maps regular expressions (searched anywhere in ``action``) to a verdict;
    a denying pattern wins over an allowing one, and text none matches is null. For a
    device whose action is free text or a compound code (netfilter log prefixes, Squid
    result codes), not a word ``verdict`` can look up.
    """
    denied = "|".join(f"(?:{p})" for p, meaning in table.items() if meaning == "denied")
    allowed = "|".join(f"(?:{p})" for p, meaning in table.items() if meaning == "allowed")
    return (
        pl.when(action.str.contains(denied))
        .then(pl.lit("denied"))
        .when(action.str.contains(allowed))
        .then(pl.lit("allowed"))
    )
