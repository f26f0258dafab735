"""URL normalisation, the same in Python (for indicators) and in Polars (for event columns).

Normal form: scheme and authority (user info, host, port) lower-case, the host's
trailing dot and a default port (http 80, https 443) dropped, an empty path written
as ``/``; the rest (path, query, fragment) is kept as it is. Both versions use the
same two regular expressions, so an indicator and an event URL agree byte for byte.
"""

from __future__ import annotations

import re

import polars as pl

_HEAD = r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)"
_AUTHORITY = r"^(?:(?P<userinfo>[^@]*)@)?(?P<host>\[[^\]]*\]|[^:@\[\]]+)(?::(?P<port>[0-9]*))?$"
# Already normal, as most URLs in traffic are: lower-case scheme and plain host, then "/".
_NORMAL = r"^[a-z][a-z0-9+.-]*://[a-z0-9_~-](?:[a-z0-9._~-]*[a-z0-9_~-])?/"
_HEAD_RE = re.compile(_HEAD)
_AUTHORITY_RE = re.compile(_AUTHORITY)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_url(text: str) -> str | None:
    """Return ``text`` as a normalised URL, or None if it is not ``scheme://host…``."""
    head = _HEAD_RE.match(text)
    if head is None:
        return None
    authority = _AUTHORITY_RE.match(head["authority"].lower())
    if authority is None:
        return None
    scheme = head["scheme"].lower()
    host = authority["host"].rstrip(".")
    if not host:
        return None
    userinfo = "" if authority["userinfo"] is None else authority["userinfo"] + "@"
    port = authority["port"] or ""
    if port and _DEFAULT_PORTS.get(scheme) == int(port):
        port = ""
    rest = text[head.end() :]
    if not rest.startswith("/"):
        rest = "/" + rest
    return f"{scheme}://{userinfo}{host}{':' + port if port else ''}{rest}"


def _normalise_frame(urls: pl.DataFrame) -> pl.Series:
    """Normalise the ``url`` column of ``urls`` the slow, general way."""
    scheme, authority, port = pl.col("scheme"), pl.col("authority"), pl.col("port")
    host, userinfo, rest = pl.col("host"), pl.col("userinfo"), pl.col("rest")
    parts = (
        urls.with_columns(head=pl.col("url").str.extract_groups(_HEAD))
        .unnest("head")
        .with_columns(
            rest=pl.col("url").str.slice(scheme.str.len_chars() + 3 + authority.str.len_chars()),
            scheme=scheme.str.to_lowercase(),
            authority=authority.str.to_lowercase().str.extract_groups(_AUTHORITY),
        )
        .unnest("authority")
    )
    number = port.cast(pl.Int64, strict=False)
    default = ((scheme == "http") & (number == 80)) | ((scheme == "https") & (number == 443))
    host = host.str.strip_chars_end(".")
    url = pl.concat_str(
        scheme,
        pl.lit("://"),
        pl.when(userinfo.is_not_null()).then(userinfo + "@").otherwise(pl.lit("")),
        host,
        pl.when((port.fill_null("") != "") & ~default.fill_null(value=False))
        .then(":" + port)
        .otherwise(pl.lit("")),
        pl.when(rest.str.starts_with("/")).then(rest).otherwise("/" + rest),
    )
    return parts.select(pl.when(host.fill_null("") != "").then(url).alias("url")).to_series()


def normalise_urls(values: pl.Series) -> pl.Series:
    """Return ``normalise_url`` of every value of a string series (null where not a URL)."""
    frame = values.cast(pl.String).to_frame("url")
    odd = frame.select(pl.arg_where(~pl.col("url").str.contains(_NORMAL).fill_null(value=True)))
    positions = odd.to_series()
    if not len(positions):
        return frame.to_series()
    fixed = _normalise_frame(frame.select(pl.col("url").gather(positions)))
    return frame.to_series().scatter(positions, fixed)
