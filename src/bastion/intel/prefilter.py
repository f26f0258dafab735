"""The retro-hunt's sieve: tests on raw columns that every archived event matching some indicators passes.

A retro-hunt reads the archive's matched columns once, a day at a time, keeps the
rows that pass the sieve, and the match index then decides exactly which event hit
which indicator. So a test may let through events that match nothing (they cost a
little), but never hold back one that matches. Each is cheap per row, since it runs
over every archived event, and runs on whole Polars columns (one hash lookup or
prefix comparison per row, no per-row Python):

- exact values (addresses, URLs, fingerprints, hashes) by a hash lookup in the set
  of listed values;
- IPv4 networks by the text of their addresses: up to a /16 as the addresses
  themselves (a lookup per row, like a listed address), wider ones by the
  dotted-quad prefixes of their /16s (``10.1.``) or /8s;
- IPv6 text (rare at a boundary) by its first group, whatever the indicator;
- domains (a listed domain hits its subdomains too) by their last characters: every
  name at or beneath a listed domain ends with that domain's last ``tail`` characters
  (``tail`` the length of the shortest listed domain), so one cut and one lookup per
  name, on the names only (a domain column is mostly empty: nulls are skipped first);
- what a test per row cannot find at all (URL patterns, matched on normalised URLs)
  by the field's *distinct* values: ``by_value`` lists those fields, and the hunt adds
  the values that hit as exact values (``Sieve.with_values``).
"""

from __future__ import annotations

import ipaddress
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property

import polars as pl

from bastion.intel.index import DOMAIN_FIELDS, FIELDS, IP_FIELDS, URL_FIELD
from bastion.intel.indicator import IndicatorType

T = IndicatorType
# A network of up to this many addresses is looked for as its addresses, a wider one by prefixes.
MAX_HOSTS = 1 << 16
# An IPv6 network spanning more first groups than this lets every IPv6 value through.
MAX_V6_GROUPS = 4096
_URL_HOST = r"^[a-z][a-z0-9+.-]*://(?:[^/@]*@)?(\[[^\]]*\]|[^/:?#]*)"
_HEX = "0123456789abcdefABCDEF"


@dataclass(frozen=True)
class FieldTest:
    """What a value of one column may be, for its event to match: the test of one field.

    ``v6_groups``: the first groups (lower-case hex, no leading zeros, "" for 0) an
    IPv6 text may start with; ``every_v6`` lets any text holding a ``:`` through.
    ``tails``: the last ``tail`` characters (lower case) a name at or beneath a listed
    domain ends with (see ``domain_test``).
    """

    values: frozenset[str] = frozenset()
    prefixes: frozenset[str] = frozenset()
    v6_groups: frozenset[str] = frozenset()
    every_v6: bool = False
    tails: frozenset[str] = frozenset()
    tail: int = 0

    def __or__(self, other: FieldTest) -> FieldTest:
        # Tails of two lengths: the shorter cut serves both.
        tail = min((t.tail for t in (self, other) if t.tails), default=0)
        return FieldTest(
            self.values | other.values,
            self.prefixes | other.prefixes,
            self.v6_groups | other.v6_groups,
            self.every_v6 or other.every_v6,
            frozenset(t[-tail:] for t in self.tails | other.tails) if tail else frozenset(),
            tail,
        )

    @cached_property
    def _listed(self) -> pl.Series:
        return pl.Series(sorted(self.values), dtype=pl.String).implode()

    def passes(self, values: pl.Series) -> pl.Series:
        """Return, for each value (null: False), whether its event may match."""
        mask = values.is_in(self._listed)
        for prefix in sorted(self.prefixes):
            mask = mask | values.str.starts_with(prefix)
        if self.every_v6 or self.v6_groups:
            mask = mask | self._v6(values)
        if self.tails:
            mask = mask | self._ends(values)
        return mask.fill_null(value=False)

    def _ends(self, values: pl.Series) -> pl.Series:
        """Return which values are names that may be at or beneath a listed domain.

        A name passes when its last ``tail`` characters, lower-cased, are a listed
        domain's, or when it ends in a dot or a space (the index strips those: such a
        rare name is let through rather than cut). Only the names are looked at: the
        empty rows of a domain column cost one null test each.
        """
        rows = values.is_not_null().arg_true()
        end = values.drop_nulls().str.tail(self.tail + 1)
        found = end.str.tail(self.tail).str.to_lowercase().is_in(self._tails) | end.str.contains(
            r"[.\s]$"
        )
        return _none(len(values)).scatter(rows, found.fill_null(value=False))

    @cached_property
    def _tails(self) -> pl.Series:
        return pl.Series(sorted(self.tails), dtype=pl.String).implode()

    def _v6(self, values: pl.Series) -> pl.Series:
        """Return which values are IPv6 text starting with a listed group.

        Only values whose first character can begin such text are looked at closely
        (a group's first digit, a leading zero, or ``:``): with IPv4 indicators alone
        the group is "" (the mapped ``::ffff:a.b.c.d``), and almost no row qualifies.
        """
        starts = (
            set(_HEX + ":") if self.every_v6 else {":", "0", *(g[0] for g in self.v6_groups if g)}
        )
        maybe = _none(len(values))
        for start in sorted(starts | {s.upper() for s in starts}):
            maybe = maybe | values.str.starts_with(start)
        rows = maybe.fill_null(value=False).arg_true()
        close = values.gather(rows)
        found = close.str.contains(":", literal=True)
        if not self.every_v6:
            group = close.str.split_exact(":", 1).struct.field("field_0")
            group = group.str.to_lowercase().str.strip_chars_start("0")
            found = found & group.is_in(pl.Series(sorted(self.v6_groups)).implode())
        return _none(len(values)).scatter(rows, found.fill_null(value=False))


def _none(length: int) -> pl.Series:
    return pl.repeat(value=False, n=length, dtype=pl.Boolean, eager=True)


@dataclass(frozen=True)
class Sieve:
    """A test per field; an event passes when one of its fields does."""

    tests: dict[str, FieldTest] = field(default_factory=dict)

    def with_test(self, name: str, test: FieldTest) -> Sieve:
        """Return this sieve with ``test`` added to the test of ``name``."""
        tests = dict(self.tests)
        tests[name] = tests.get(name, FieldTest()) | test
        return replace(self, tests=tests)

    def with_values(self, name: str, values: list[str] | set[str]) -> Sieve:
        """Return this sieve letting events through whose ``name`` is one of ``values``."""
        return self.with_test(name, FieldTest(values=frozenset(values))) if values else self

    @property
    def fields(self) -> list[str]:
        """The columns the sieve reads."""
        return sorted(self.tests)

    def passes(self, events: pl.DataFrame) -> pl.Series:
        """Return, for each event of ``events`` (which holds ``fields``), whether it may match.

        The fields are tested side by side, one thread each up to Polars' threads
        (its work runs outside the interpreter's lock): a test is a few passes over a
        column, each on one core.
        """

        def test(item: tuple[str, FieldTest]) -> pl.Series:
            name, field_test = item
            return field_test.passes(events[name].cast(pl.String))

        mask = _none(events.height)
        with ThreadPoolExecutor(max(1, min(len(self.tests), pl.thread_pool_size()))) as pool:
            for passed in pool.map(test, self.tests.items()):
                mask = mask | passed
        return mask


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


def ip_test(listings: pl.DataFrame) -> FieldTest | None:
    """Return the test of an address column that every event matching an IP, IPv6 or
    network indicator of ``listings`` passes (None when there is none of those)."""
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
    return FieldTest(frozenset(exact), frozenset(prefixes), frozenset(groups), every_v6)


def domain_test(listings: pl.DataFrame) -> FieldTest | None:
    """Return the test of a name column that every event matching a domain indicator of
    ``listings`` passes (None when there is none).

    A name hits a listed domain when, stripped and lower-cased, it is that domain or
    ends with ``.`` and it: either way it ends with the domain's last ``tail``
    characters, ``tail`` being the shortest listed domain's length.
    """
    domains = pl.Series(_of(listings, T.DOMAIN), dtype=pl.String).str.to_lowercase()
    if domains.is_empty():
        return None
    tail = int(domains.str.len_chars().min())  # type: ignore[arg-type]
    return FieldTest(tails=frozenset(domains.str.tail(tail).to_list()), tail=tail)


def prefilter(listings: pl.DataFrame, columns: set[str]) -> tuple[Sieve, list[str]]:
    """Return the sieve every matching event passes, on the raw ``columns``, and the fields
    to match by their distinct values first (see the module's docstring).

    Exact values are looked for as they are listed (hashes in either case); a URL
    also by its host in ``url.domain``.
    """
    sieve = Sieve()
    by_value: list[str] = []
    addresses = ip_test(listings)
    for name in IP_FIELDS:
        if addresses is not None and name in columns:
            sieve = sieve.with_test(name, addresses)

    def add(name: str, values: list[str]) -> None:
        nonlocal sieve
        if name in columns:
            sieve = sieve.with_values(name, values)

    names = domain_test(listings)
    for name in DOMAIN_FIELDS:
        if names is not None and name in columns:
            sieve = sieve.with_test(name, names)
    urls = _of(listings, T.URL)
    if urls:
        hosts = pl.Series(urls, dtype=pl.String).str.extract(_URL_HOST, 1)
        add("url.domain", hosts.drop_nulls().to_list())
        add(URL_FIELD, urls)
    if _of(listings, T.URL_PATTERN) and URL_FIELD in columns:
        by_value.append(URL_FIELD)
    for kind in (T.JA3, T.JA4, T.SHA256, T.SHA1, T.MD5):
        values = _of(listings, kind)
        for name in FIELDS[kind]:
            add(name, values + [v.upper() for v in values])
    return sieve, list(dict.fromkeys(by_value))
