"""Vectorised IP helpers: address columns to integers, and CIDRs flattened for ``searchsorted``.

IPv4 addresses become ``UInt32`` keys and IPv6 addresses ``UInt128`` keys; each family
has its own key space, so ``::/0`` never covers IPv4. An IPv4-mapped IPv6 address
(``::ffff:192.0.2.1``) is the IPv4 host it names, and is keyed as IPv4. A string that
is not an address (including IPv4 with leading zeros, which ``ipaddress`` rejects too)
gets no key and so matches nothing.

A set of CIDRs, nested or not, is flattened once into sorted, non-overlapping
segments; every segment lists the CIDRs that cover it, most specific first. Looking
an address up is then one binary search (``search_sorted``) plus gathers: no Python
loop per address.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from bastion.core.errors import InputError

V4_BITS = 32
V6_BITS = 128
V4_KEY = pl.UInt32()
V6_KEY = pl.UInt128()

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^{_OCTET}(?:\.{_OCTET}){{3}}$"
_QUAD_TAIL = r"((?:[0-9]{1,3}\.){3}[0-9]{1,3})$"
_HEX_GROUPS = r"(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?"
_IPV6_HEX = rf"^{_HEX_GROUPS}(?:::{_HEX_GROUPS})?$"
_MAPPED_V4 = 0xFFFF << 32  # ::ffff:0:0/96


def _ipv4_keys(text: pl.Series) -> pl.Series:
    """Return the UInt32 key of each IPv4 address string, null where it is not one."""
    octets = (
        text.to_frame("ip")
        .select(valid=pl.col("ip").str.contains(_IPV4), octets=pl.col("ip").str.split_exact(".", 3))
        .unnest("octets")
    )
    value = pl.lit(0, V4_KEY)
    for i, weight in enumerate((1 << 24, 1 << 16, 1 << 8, 1)):
        value = value + pl.col(f"field_{i}").cast(V4_KEY, strict=False) * pl.lit(weight, V4_KEY)
    return octets.select(pl.when("valid").then(value).alias("k")).to_series()


def _padded(part: pl.Expr) -> pl.Expr:
    """Return colon-separated hex groups as one string of 4-digit groups ("1:ab" → "000100ab")."""
    pieces = part.fill_null("").str.split(":")
    return pieces.list.eval(pl.element().filter(pl.element() != "").str.zfill(4)).list.join("")


def _ipv6_keys(text: pl.Series) -> pl.Series:
    """Return UInt128 keys of IPv6 address strings (zone id ignored), null where invalid."""
    ip, quad, hexa, groups, count = (pl.col(c) for c in ("ip", "quad", "hex", "groups", "count"))
    frame = (
        text.to_frame("ip")
        .select(ip.str.to_lowercase().str.replace(r"%[^%]*$", ""))
        .with_columns(quad=ip.str.extract(_QUAD_TAIL, 1))
        # A dotted-quad tail stands for the last two groups: "::ffff:1.2.3.4" → "::ffff" + quad,
        # "1:2:3:4:5:6:1.2.3.4" → "1:2:3:4:5:6" + quad; "::1.2.3.4" keeps its "::".
        .with_columns(
            hex=pl.when(quad.is_null())
            .then(ip)
            .otherwise(ip.str.replace(_QUAD_TAIL, "").str.replace(r"([^:]):$", "$1")),
            groups=pl.when(quad.is_null()).then(8).otherwise(6),
        )
        .with_columns(count=hexa.str.count_matches(r"[0-9a-f]{1,4}"))
    )
    gap = hexa.str.contains("::", literal=True)
    valid = hexa.str.contains(_IPV6_HEX) & ((gap & (count < groups)) | (~gap & (count == groups)))
    halves = hexa.str.split_exact("::", 1)
    zeros = pl.lit("0" * 32).str.slice(0, (groups - count).clip(lower_bound=0) * 4)
    digits = (
        _padded(halves.struct.field("field_0")) + zeros + _padded(halves.struct.field("field_1"))
    )
    head = pl.when(valid).then(digits.str.to_integer(base=16, dtype=V6_KEY, strict=False))
    tail = pl.col("tail").cast(V6_KEY)
    key = pl.when(quad.is_null()).then(head).otherwise(head * _u128(1 << 32) + tail)
    return frame.with_columns(tail=_ipv4_keys(frame["quad"])).select(key.alias("k")).to_series()


@dataclass(frozen=True)
class IpKeys:
    """Keys of a column of addresses: ``v4`` (UInt32) and ``v6`` (UInt128), null where not that."""

    v4: pl.Series
    v6: pl.Series


def ip_keys(values: pl.Series) -> IpKeys:
    """Turn address strings into integer keys, one family at a time; invalid or null gets none."""
    frame = values.cast(pl.String).to_frame("ip")
    v4 = _ipv4_keys(frame["ip"])
    v6 = pl.repeat(None, len(frame), dtype=V6_KEY, eager=True).alias("k")
    if v4.null_count() == values.null_count():
        return IpKeys(v4, v6)  # every address is IPv4 (the usual batch): no IPv6 pass
    # Only strings with a colon can be IPv6; parse those alone (the slower path).
    colon = frame.select(pl.arg_where(pl.col("ip").str.contains(":", literal=True))).to_series()
    if len(colon):
        key = pl.col("k")
        mapped = key.is_between(_u128(_MAPPED_V4), _u128(_MAPPED_V4 + (1 << 32) - 1))
        parsed = (
            _ipv6_keys(frame["ip"].gather(colon))
            .to_frame("k")
            .select(
                pl.when(mapped).then((key - _u128(_MAPPED_V4)).cast(V4_KEY)).alias("v4"),
                pl.when(~mapped).then(key).alias("v6"),
            )
        )
        v4 = v4.scatter(colon, parsed["v4"])
        v6 = v6.scatter(colon, parsed["v6"])
    return IpKeys(v4, v6)


def column_keys(frame: pl.DataFrame, names: Iterable[str]) -> dict[str, IpKeys]:
    """Parse the address columns ``names`` of ``frame`` once, for every stage that needs them.

    A column the frame lacks gets null keys. Address parsing is the costliest step of
    attributing and matching a batch: the pipeline does it once and hands the keys on.
    """
    empty = pl.repeat(None, frame.height, dtype=pl.String, eager=True)
    return {
        name: ip_keys(frame.get_column(name) if name in frame.columns else empty) for name in names
    }


def _u128(value: int) -> pl.Expr:
    return pl.lit(value, dtype=V6_KEY)


def parse_cidrs(values: pl.Series) -> pl.DataFrame:
    """Parse CIDRs (a bare address is a /32 or /128) into ``v4``/``v6`` start keys and ``prefix``.

    A CIDR with host bits set, a prefix out of range or a bad address gets null keys.
    """
    text = values.cast(pl.String).to_frame("cidr")
    parts = text.select(
        address=pl.col("cidr").str.split_exact("/", 1).struct.field("field_0"),
        length=pl.col("cidr").str.split_exact("/", 1).struct.field("field_1"),
        colon=pl.col("cidr").str.contains(":", literal=True),
    )
    keys = ip_keys(parts["address"])
    v4, v6, length, colon = (pl.col(c) for c in ("v4", "v6", "length", "colon"))
    # An IPv4-mapped network (::ffff:10.0.0.0/104) is the IPv4 network it names (10.0.0.0/8).
    full = pl.when(colon).then(V6_BITS).otherwise(V4_BITS)
    given = (
        pl.when(length.str.contains(r"^[0-9]{1,3}$")).then(length.cast(pl.Int32, strict=False))
    ).fill_null(pl.when(length.is_null()).then(full).otherwise(-1))
    prefix = pl.when(v4.is_not_null() & colon).then(given - (V6_BITS - V4_BITS)).otherwise(given)
    frame = parts.with_columns(v4=keys.v4, v6=keys.v6).with_columns(prefix=prefix)
    v4_ok = v4.is_not_null() & pl.col("prefix").is_between(0, V4_BITS)
    v6_ok = v6.is_not_null() & pl.col("prefix").is_between(0, V6_BITS)
    v4_host = _hostmask(V4_BITS, V4_KEY).gather(pl.col("prefix").clip(0, V4_BITS))
    v6_host = _hostmask(V6_BITS, V6_KEY).gather(pl.col("prefix").clip(0, V6_BITS))
    return frame.select(
        v4=pl.when(v4_ok & ((v4 & v4_host) == 0)).then(v4),
        v6=pl.when(v6_ok & ((v6 & v6_host) == 0)).then(v6),
        prefix=pl.when(v4_ok | v6_ok).then(pl.col("prefix").cast(pl.UInt8)),
    ).with_columns(prefix=pl.when(v4.is_not_null() | v6.is_not_null()).then(pl.col("prefix")))


def _hostmask(bits: int, dtype: pl.DataType) -> pl.Expr:
    """Return the host masks of prefixes 0..bits as a literal series (index = prefix length)."""
    return pl.lit(pl.Series([(1 << (bits - p)) - 1 for p in range(bits + 1)], dtype=dtype))


@dataclass(frozen=True)
class _Segments:
    """One family's CIDRs flattened: sorted segment starts and each segment's covering items."""

    starts: pl.Series  # sorted, starts[0] == 0: segment i is [starts[i], starts[i+1])
    first: pl.Series  # UInt32: where segment i's covers begin in ``items``
    count: pl.Series  # UInt32: how many CIDRs cover segment i
    items: pl.Series  # UInt32: item numbers, per segment most specific first

    @classmethod
    def build(
        cls, starts: pl.Series, prefixes: pl.Series, items: pl.Series, bits: int
    ) -> _Segments:
        dtype = starts.dtype
        top = (1 << bits) - 1
        ranges = pl.DataFrame({"start": starts, "prefix": prefixes, "item": items}).with_columns(
            last=pl.col("start") | _hostmask(bits, dtype).gather(pl.col("prefix"))
        )
        after = ranges.filter(pl.col("last") != pl.lit(top, dtype)).select(
            pl.col("last") + pl.lit(1, dtype)
        )["last"]
        # Every CIDR starts and ends on a segment boundary, so it covers whole segments only.
        bounds = pl.concat([pl.Series([0], dtype=dtype), ranges["start"], after]).unique().sort()
        lo = bounds.search_sorted(ranges["start"], side="left")
        hi = bounds.search_sorted(ranges["last"], side="right")
        covers = (
            ranges.select("item", "prefix", segment=pl.int_ranges(lo, hi, dtype=pl.UInt32))
            .explode("segment", empty_as_null=False)
            .sort(["segment", "prefix", "item"], descending=[False, True, False])
        )
        ids = pl.Series(range(len(bounds)), dtype=pl.UInt32)
        first = covers["segment"].search_sorted(ids, side="left")
        count = covers["segment"].search_sorted(ids, side="right") - first
        return cls(bounds, first, count, covers["item"])

    def covers(self, keys: pl.Series) -> pl.DataFrame:
        """Return (pos, item) for every non-null key at ``pos`` and every CIDR covering it."""
        pos = keys.is_not_null().arg_true()
        segment = self.starts.search_sorted(keys.gather(pos), side="right") - 1
        found = pl.DataFrame(
            {"pos": pos, "first": self.first.gather(segment), "count": self.count.gather(segment)}
        ).filter(pl.col("count") > 0)
        at = pl.int_ranges(pl.col("first"), pl.col("first") + pl.col("count"), dtype=pl.UInt32)
        hits = found.select("pos", at=at).explode("at", empty_as_null=False)
        return hits.select("pos", item=self.items.gather(hits["at"]))

    def best(self, keys: pl.Series) -> pl.Series:
        """Return the most specific covering item per key (null where none or key null)."""
        out = pl.repeat(None, len(keys), dtype=pl.UInt32, eager=True).alias("item")
        pos = keys.is_not_null().arg_true()
        if len(pos):
            segment = self.starts.search_sorted(keys.gather(pos), side="right") - 1
            found = pl.DataFrame(
                {"count": self.count.gather(segment), "first": self.first.gather(segment)}
            ).select(pl.when(pl.col("count") > 0).then(pl.col("first")))
            best = self.items.gather(found.to_series())
            out = out.scatter(pos, best)
        return out


class CidrTable:
    """CIDRs of both families flattened for lookup; an item is a CIDR's position in the input."""

    def __init__(self, v4: _Segments, v6: _Segments) -> None:
        self._v4 = v4
        self._v6 = v6

    @classmethod
    def build(cls, cidrs: pl.Series) -> CidrTable:
        """Flatten ``cidrs`` (nested allowed; bare addresses are hosts); raise InputError if one is bad."""
        parsed = parse_cidrs(cidrs)
        bad = parsed["prefix"].is_null().arg_true()
        if len(bad):
            msg = f"invalid CIDR {cidrs[int(bad[0])]!r}: expected a network like 10.1.0.0/16"
            raise InputError(msg)
        return cls.from_keys(parsed)

    @classmethod
    def from_keys(cls, keys: pl.DataFrame) -> CidrTable:
        """Flatten CIDRs already parsed by ``parse_cidrs`` (every row valid); item = row number."""
        parsed = keys.with_columns(item=pl.int_range(pl.len(), dtype=pl.UInt32))
        v4 = parsed.filter(pl.col("v4").is_not_null())
        v6 = parsed.filter(pl.col("v6").is_not_null())
        return cls(
            _Segments.build(v4["v4"], v4["prefix"], v4["item"], V4_BITS),
            _Segments.build(v6["v6"], v6["prefix"], v6["item"], V6_BITS),
        )

    def covering(self, ips: pl.Series) -> pl.DataFrame:
        """Return (pos UInt32, item UInt32) for each address in ``ips`` and each CIDR covering it."""
        return self.covering_keys(ip_keys(ips))

    def covering_keys(self, keys: IpKeys) -> pl.DataFrame:
        """``covering`` for addresses already parsed by ``ip_keys``."""
        return pl.concat([self._v4.covers(keys.v4), self._v6.covers(keys.v6)])

    def most_specific(self, ips: pl.Series) -> pl.Series:
        """Return the item of the most specific CIDR covering each address (null where none)."""
        return self.most_specific_keys(ip_keys(ips))

    def most_specific_keys(self, keys: IpKeys) -> pl.Series:
        """``most_specific`` for addresses already parsed by ``ip_keys``."""
        return self._v4.best(keys.v4).fill_null(self._v6.best(keys.v6))
