"""Split URLs and request targets into the schema's url and destination fields.

Hosts and ports go through ``fields.domain`` and ``fields.port``, so a URL's host is
normalised as every other host name is.
"""

from __future__ import annotations

import polars as pl

from bastion.boundary.parsers.fields import domain, null_if_blank, port

# scheme://[user@]host[:port][path]; the host may be a bracketed IPv6 literal.
_URL_PATTERN = (
    r"^[A-Za-z][A-Za-z0-9+.\-]*://(?:[^@/?#]*@)?"
    r"(?P<host>\[[^\]]*\]|[^:/?#]*)(?::(?P<port>[0-9]{1,5}))?(?P<path>/[^?#]*)?"
)
_AUTHORITY_PATTERN = r"^(?P<host>\[[^\]]+\]|[^:/\s\[\]]+):(?P<port>[0-9]{1,5})$"
_SCHEME = r"^[A-Za-z][A-Za-z0-9+.-]*://"


def _host(host: pl.Expr) -> pl.Expr:
    return domain(host.str.strip_prefix("[").str.strip_suffix("]"))


def with_url_parts(frame: pl.LazyFrame, url: pl.Expr | str, prefix: str) -> pl.LazyFrame:
    """Add ``{prefix}domain``, ``{prefix}port``, ``{prefix}path`` of absolute URLs in ``url``.

    Parts are null where the value is not an absolute URL. The regex's groups are first
    kept as a column so that each part reads that column (see ``fields``).
    """
    return _with_parts(frame, url, _URL_PATTERN, prefix, with_path=True)


def with_authority_parts(frame: pl.LazyFrame, target: pl.Expr | str, prefix: str) -> pl.LazyFrame:
    """Add ``{prefix}domain`` and ``{prefix}port`` of ``host:port`` (CONNECT) targets."""
    return _with_parts(frame, target, _AUTHORITY_PATTERN, prefix, with_path=False)


def _with_parts(
    frame: pl.LazyFrame, value: pl.Expr | str, pattern: str, prefix: str, *, with_path: bool
) -> pl.LazyFrame:
    """Extract ``pattern``'s host, port (and path) groups of ``value`` into prefixed columns."""
    value = pl.col(value) if isinstance(value, str) else value
    groups = f"{prefix}groups"
    parts = pl.col(groups).struct
    columns = [
        _host(parts.field("host")).alias(f"{prefix}domain"),
        port(parts.field("port")).alias(f"{prefix}port"),
    ]
    if with_path:
        columns.append(null_if_blank(parts.field("path")).alias(f"{prefix}path"))
    return (
        frame.with_columns(value.str.extract_groups(pattern).alias(groups))
        .with_columns(columns)
        .drop(groups)
    )


def url_parts(
    full: pl.Expr, default_scheme: pl.Expr | str = "http"
) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Return (url.full, url.domain, url.path) from a URL with or without its scheme.

    Devices often log ``host/path`` without a scheme; ``default_scheme`` completes it
    so ``url.full`` is always absolute. The path stops before ``?`` or ``#``.
    """
    scheme = pl.lit(default_scheme) if isinstance(default_scheme, str) else default_scheme
    has_scheme = full.str.contains(_SCHEME)
    rest = pl.when(has_scheme).then(full.str.replace(_SCHEME, "")).otherwise(full)
    authority = rest.str.extract(r"^[^/?#]*", 0)
    host = authority.str.replace(r"^[^@]*@", "").str.replace(r":[0-9]*$", "")
    path = rest.str.slice(authority.str.len_chars()).str.extract(r"^[^?#]*", 0)
    absolute = (
        pl.when(has_scheme).then(full).otherwise(pl.concat_str([scheme, pl.lit("://"), full]))
    )
    return (
        pl.when(null_if_blank(full).is_not_null()).then(absolute),
        _host(host),
        null_if_blank(path),
    )


def path_of(target: pl.Expr) -> pl.Expr:
    """Return the path of an origin-form request target (everything before ``?``)."""
    return target.str.extract(r"^(/[^?]*)", 1)
