"""SQL conditions that every archived event matching some indicators meets: the retro-hunt's sieve.

A retro-hunt reads the archive once with these conditions (DuckDB over Parquet), and
the match index then decides exactly which event hit which indicator. So a condition
may let through events that match nothing (they cost a little), but never hold back
one that matches. Each is cheap per row, since it runs over every archived event:

- exact values (addresses, URLs, fingerprints, hashes) by ``IN`` on the raw column,
  which DuckDB applies inside the Parquet scan;
- IPv4 networks by the text of their addresses: up to a /16 as the addresses
  themselves (a hash lookup per row, like a listed address), wider ones by the
  dotted-quad prefixes of their /16s (``10.1.``) or /8s;
- IPv6 text (rare at a boundary) by its first group, whatever the indicator;
- what a comparison per row cannot find cheaply (parent domains, URL patterns) by
  the field's *distinct* values: ``by_value`` lists those fields, and the hunt adds
  an ``IN`` over the values that hit.
"""

from __future__ import annotations

import ipaddress

import polars as pl

from bastion.intel.index import DOMAIN_FIELDS, FIELDS, IP_FIELDS, URL_FIELD
from bastion.intel.indicator import IndicatorType

T = IndicatorType
# A network of up to this many addresses is looked for as its addresses, a wider one by prefixes.
MAX_HOSTS = 1 << 16
# An IPv6 network spanning more first groups than this lets every IPv6 value through.
MAX_V6_GROUPS = 4096
_URL_HOST = r"^[a-z][a-z0-9+.-]*://(?:[^/@]*@)?(\[[^\]]*\]|[^/:?#]*)"


def quote(text: str) -> str:
    """Return ``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def column(name: str) -> str:
    """Return ``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


# Up to this many values an IN list is checked value by value; more go into a hash join.
SHORT_LIST = 8


def is_in(sql: str, values: list[str] | set[str], *, hashed: bool = True) -> str:
    """Return the condition that ``sql`` is one of ``values``.

    DuckDB compares a row with a long list of constants one constant at a time (a
    3,000-value list costs seven times the scan), so a long list is given as a
    subquery, which it looks up in a hash table.
    """
    listed = ", ".join(quote(v) for v in sorted(set(values)))
    if len(set(values)) <= SHORT_LIST or not hashed:
        return f"{sql} IN ({listed})"
    return f"{sql} IN (SELECT unnest([{listed}]))"


def _of(listings: pl.DataFrame, *kinds: IndicatorType) -> list[str]:
    values = listings.filter(pl.col("type").is_in([k.value for k in kinds]))["value"]
    return values.unique().sort().to_list()


def _v4_text(network: ipaddress.IPv4Network) -> tuple[list[str], list[str]]:
    """Return (addresses, prefixes) whose text covers exactly the addresses of ``network``.

    A network of up to ``MAX_HOSTS`` addresses is its addresses (one hash lookup per
    row, however many); a wider one is the ``a.b.`` or ``a.`` prefixes of its /16s or
    /8s (a prefix ends with a dot, so ``10.1.`` never covers ``10.10.``).
    """
    if network.num_addresses <= MAX_HOSTS:
        return [str(a) for a in network], []
    octets = 2 if network.prefixlen > 8 else 1
    step = 1 << (32 - 8 * octets)
    first = int(network.network_address)
    prefixes = []
    for start in range(first, first + network.num_addresses, step):
        text = str(ipaddress.IPv4Address(start)).split(".")[:octets]
        prefixes.append(".".join(text) + ".")
    return [], prefixes


def _v6_groups(network: ipaddress.IPv6Network) -> list[str] | None:
    """Return the first groups (hex, no leading zeros, "" for 0) of ``network``'s addresses.

    None when there are more than ``MAX_V6_GROUPS`` of them.
    """
    low = int(network.network_address) >> 112
    high = int(network.broadcast_address) >> 112
    if high - low >= MAX_V6_GROUPS:
        return None
    return [f"{g:x}" if g else "" for g in range(low, high + 1)]


def ip_condition(field: str, listings: pl.DataFrame) -> str | None:
    """Return the condition on an address column that every event matching an IP, IPv6 or
    network indicator of ``listings`` meets (None when there is none of those)."""
    exact: set[str] = set()
    prefixes: set[str] = set()
    groups: set[str] = set()
    every_v6 = False
    for value in _of(listings, T.IPV4, T.IPV6, T.CIDR):
        network = ipaddress.ip_network(value, strict=False)
        if isinstance(network, ipaddress.IPv4Network):
            hosts, runs = _v4_text(network)
            exact.update(hosts)
            prefixes.update(runs)
            groups.add("")  # the IPv4-mapped IPv6 text ::ffff:a.b.c.d
        else:
            found = _v6_groups(network)
            every_v6 = every_v6 or found is None
            groups.update(found or ())
    if not exact and not prefixes and not groups and not every_v6:
        return None
    name = column(field)
    parts = [is_in(name, exact)] if exact else []
    # Networks wider than a /16 are rare: a prefix test each (DuckDB's LIKE 'a.b.%' compares
    # the string's inlined first bytes) beats computing a key for every row.
    parts += [f"{name} LIKE {quote(prefix + '%')}" for prefix in sorted(prefixes)]
    v6 = f"contains({name}, ':')"
    if every_v6:
        parts.append(v6)
    elif groups:
        # A short constant list, tested only on the rare rows holding a ':'.
        first_group = f"ltrim(split_part(lower({name}), ':', 1), '0')"
        parts.append(f"({v6} AND {is_in(first_group, groups, hashed=False)})")
    return " OR ".join(parts)


def prefilter(listings: pl.DataFrame, columns: set[str]) -> tuple[list[str], list[str]]:
    """Return conditions on raw columns, one of which every matching event meets, and the
    fields to match by their distinct values first (see the module's docstring).

    Exact values are looked for as they are listed (hashes in either case); a URL
    also by its host in ``url.domain``.
    """
    conditions: list[str] = []
    by_value: list[str] = []

    def add(field: str, values: list[str]) -> None:
        if values and field in columns:
            conditions.append(is_in(column(field), values))

    for field in IP_FIELDS:
        condition = ip_condition(field, listings) if field in columns else None
        if condition:
            conditions.append(condition)
    if _of(listings, T.DOMAIN):
        by_value += [f for f in DOMAIN_FIELDS if f in columns]
    urls = _of(listings, T.URL)
    if urls:
        hosts = pl.Series(urls, dtype=pl.String).str.extract(_URL_HOST, 1)
        add("url.domain", hosts.drop_nulls().to_list())
        add(URL_FIELD, urls)
    if _of(listings, T.URL_PATTERN) and URL_FIELD in columns:
        by_value.append(URL_FIELD)
    for kind in (T.JA3, T.JA4, T.SHA256, T.SHA1, T.MD5):
        values = _of(listings, kind)
        for field in FIELDS[kind]:
            add(field, values + [v.upper() for v in values])
    return conditions, list(dict.fromkeys(by_value))
