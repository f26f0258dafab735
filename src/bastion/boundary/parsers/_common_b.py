"""Shared column helpers for the FortiGate, PAN-OS, Cisco ASA and iptables parsers.

Every helper works on whole columns. Regular expressions here use ASCII classes
(``[0-9]``, not ``\\d``): the Unicode classes make the regex engine's automata
several times bigger and measurably slower on millions of lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

import polars as pl

from bastion.boundary.parsers.base import ParseResult, is_blank
from bastion.core.events import LINE_COLUMN, conform, empty_rejects

ORIGINAL = "event.original"

IANA_TRANSPORTS = {
    "1": "icmp",
    "2": "igmp",
    "6": "tcp",
    "17": "udp",
    "47": "gre",
    "50": "esp",
    "51": "ah",
    "58": "ipv6-icmp",
    "132": "sctp",
}

_TRANSPORT_NAMES = {**IANA_TRANSPORTS, "icmpv6": "ipv6-icmp", "ipv6icmp": "ipv6-icmp"}


def line_frame(lines: pl.Series) -> pl.DataFrame:
    """Return the non-blank lines as ``event.original`` with their input index as ``_line``.

    Blank lines are neither events nor rejects: a trailing newline is not bad input.
    """
    frame = pl.DataFrame({ORIGINAL: lines.cast(pl.String)}).with_row_index(LINE_COLUMN)
    frame = frame.with_columns(pl.col(LINE_COLUMN).cast(pl.Int64))
    return frame.filter(~is_blank(pl.col(ORIGINAL)))


Check = tuple[pl.Expr, pl.Expr | str]


def finish(frame: pl.DataFrame, checks: Sequence[Check], fields: Sequence[pl.Expr]) -> ParseResult:
    """Reject the rows failing a check (first failing check's reason), map the rest to ``fields``.

    A check is (condition, reason): the reason, a string or an expression over the
    row, is only computed for rows that fail, so a long list of checks with
    detailed messages costs one integer column on good rows.
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


def empty_result() -> ParseResult:
    """Return a result with no events and no rejects."""
    events = conform(pl.DataFrame(schema={LINE_COLUMN: pl.Int64}))
    return ParseResult(events, empty_rejects())


def combine(parts: Iterable[ParseResult]) -> ParseResult:
    """Concatenate partial results (each part keeps its own order)."""
    results = list(parts)
    if len(results) == 1:
        return results[0]
    if not results:
        return empty_result()
    # No re-sort: it would copy every event (raw lines included); ``_line`` says where each is from.
    events = pl.concat([r.events for r in results])
    rejects = pl.concat([r.rejects for r in results])
    return ParseResult(events, rejects)


def null_if_blank(value: pl.Expr) -> pl.Expr:
    """Return ``value`` with empty strings as null."""
    return pl.when(value.str.len_bytes() > 0).then(value)


def integer(value: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Cast decimal text to ``dtype``; anything else (or out of range) becomes null."""
    return value.str.strip_chars(" ").cast(dtype, strict=False)


def port(value: pl.Expr) -> pl.Expr:
    """Return a port number (0-65535) from text, null when it is not one."""
    number = integer(value, pl.Int32())
    return pl.when(number.is_between(0, 65535)).then(number)


def not_number(raw: pl.Expr, parsed: pl.Expr) -> pl.Expr:
    """Return true where ``raw`` holds text that ``parsed`` could not read."""
    return raw.is_not_null() & (raw.str.len_bytes() > 0) & parsed.is_null()


def transport(value: pl.Expr) -> pl.Expr:
    """Return the lower-case transport name from a name or an IANA protocol number."""
    return value.str.to_lowercase().replace(_TRANSPORT_NAMES)


def verdict(action: pl.Expr, allowed: Iterable[str], denied: Iterable[str]) -> pl.Expr:
    """Return "denied" or "allowed" for the device's lower-case action word, else null."""
    return (
        pl.when(action.is_in(list(denied)))
        .then(pl.lit("denied"))
        .when(action.is_in(list(allowed)))
        .then(pl.lit("allowed"))
        .otherwise(pl.lit(None, pl.String))
    )


def domain(value: pl.Expr) -> pl.Expr:
    """Return a host name lower-case without its trailing dot; blank becomes null."""
    return null_if_blank(value.str.to_lowercase().str.strip_suffix("."))


def url_parts(
    full: pl.Expr, default_scheme: pl.Expr | str = "http"
) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Return (url.full, url.domain, url.path) from a URL with or without its scheme.

    Devices often log ``host/path`` without a scheme; ``default_scheme`` completes it
    so ``url.full`` is always absolute. The path stops before ``?`` or ``#``.
    """
    scheme = pl.lit(default_scheme) if isinstance(default_scheme, str) else default_scheme
    has_scheme = full.str.contains(r"^[A-Za-z][A-Za-z0-9+.-]*://")
    rest = (
        pl.when(has_scheme)
        .then(full.str.replace(r"^[A-Za-z][A-Za-z0-9+.-]*://", ""))
        .otherwise(full)
    )
    authority = rest.str.extract(r"^[^/?#]*", 0)
    host = authority.str.replace(r"^[^@]*@", "").str.replace(r":[0-9]*$", "")
    path = rest.str.slice(authority.str.len_chars()).str.extract(r"^[^?#]*", 0)
    absolute = (
        pl.when(has_scheme).then(full).otherwise(pl.concat_str([scheme, pl.lit("://"), full]))
    )
    return (
        pl.when(null_if_blank(full).is_not_null()).then(absolute),
        domain(host.str.strip_prefix("[").str.strip_suffix("]")),
        null_if_blank(path),
    )


def sha256(value: pl.Expr) -> pl.Expr:
    """Return a lower-case SHA-256 hex digest, null when ``value`` is not one."""
    lower = value.str.to_lowercase()
    return pl.when(lower.str.contains(r"^[0-9a-f]{64}$")).then(lower)


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


def fill_where(frame: pl.DataFrame, need: pl.Expr, columns: dict[str, pl.Expr]) -> pl.DataFrame:
    """Set ``columns`` of ``frame`` on the rows where ``need`` holds, computed on those rows only.

    Other rows keep the column's current value (null for a new column). Polars
    evaluates every branch of ``when/then`` on every row; a field only some rows
    need (a fallback time, web filter URLs) is cheaper computed on those rows.
    """
    mask = frame.select(need.fill_null(False)).to_series()
    if not mask.any() and set(columns) <= set(frame.columns):
        return frame  # no row needs them, and they exist already
    if mask.all():
        return frame.with_columns(**columns)
    # Lazy, so only the columns ``columns`` read are filtered, not every column of the frame.
    values = frame.lazy().filter(mask).select(**columns).collect()
    return scatter_rows(frame, mask, values)


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


def share_matching(lines: Sequence[str], pattern: re.Pattern[str], share: float = 0.5) -> bool:
    """Return true if at least ``share`` of the sample lines (and at least one) match."""
    if not lines:
        return False
    hits = sum(1 for line in lines if pattern.search(line))
    return hits >= max(1.0, share * len(lines))


def sniffer(pattern: str) -> Callable[[list[str]], bool]:
    """Return a sniffer accepting samples whose lines mostly contain ``pattern``."""
    compiled = re.compile(pattern)
    return lambda lines: share_matching(lines, compiled)
