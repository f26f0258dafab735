"""Synthetic member networks and threat indicators at benchmark scale, drawn column by column.

Nothing here can touch the demo's benign traffic: that traffic uses 198.18.0.0/15,
the members' 11/8, 21/8 and 22/8, the documentation ranges and ``.test`` names. The
extra members take 26/8 and 28/8 and IPv6 /48s from 3fff:0::/32; the indicators take
40/8 to 126/8 and 3fff:100::/24, random 12-character labels under ordinary TLDs, and
URL patterns whose every literal part carries a random token. Only the demo's own
indicators (its C2 addresses, phishing domains, JA3 and Log4Shell pattern) match the
planted attacks, so the alerts a run raises are the demo's.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from bastion.demo import demo_indicators
from bastion.demo.rand import ipv4
from bastion.intel import INDICATOR_SCHEMA
from bastion.orgs import Organisation, OrgType

ALPHABET = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8)
MEMBER_V4 = (26 << 24, 28 << 24)  # two /8s of /24 and /27 member blocks
INDICATOR_V4 = (40 << 24, 127 << 24)  # [start, end) of indicator addresses
TLDS = ("com", "net", "org", "info", "xyz", "top", "biz", "online", "site", "ru")
FEEDS = ("bench-feed-a", "bench-feed-b", "bench-feed-c", "bench-feed-d")
SEVERITIES = ("low", "medium", "high", "critical")
THREATS = ("", "", "commodity malware", "botnet controller", "phishing kit", "scanner")
# Share of each kind within the IP/CIDR indicators, and the CIDR prefix lengths drawn.
IPV4_HOSTS, IPV4_CIDRS = 0.90, 0.08  # the rest are IPv6 hosts and /48s
CIDR_PREFIXES = np.array([16, 20, 22, 24, 24, 24, 24, 26, 28, 30])
SECOND_SOURCE = 0.05  # share of indicators a second feed lists too (merged by the index)


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed, *stream.encode()])


def _hex16() -> pl.Series:
    """Return the lower-case hex text of every 16-bit value, for vectorised IPv6 formatting."""
    return pl.Series([f"{v:x}" for v in range(1 << 16)], dtype=pl.String)


def labels(rng: np.random.Generator, n: int, width: int = 12) -> pl.Series:
    """Return ``n`` random labels of ``width`` letters and digits, starting with a letter."""
    chars = ALPHABET[rng.integers(0, len(ALPHABET), size=(n, width), dtype=np.uint8)]
    chars[:, 0] = ALPHABET[rng.integers(0, 26, size=n, dtype=np.uint8)]
    offsets = np.arange(0, n * width + 1, width, dtype=np.int64)
    array = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes())
    )
    return pl.Series("label", array, dtype=pl.String)


def _unique_ints(rng: np.random.Generator, n: int, low: int, high: int) -> npt.NDArray[np.int64]:
    """Return ``n`` distinct integers from ``[low, high)`` in random order."""
    drawn = np.unique(rng.integers(low, high, size=int(n * 1.05) + 16, dtype=np.int64))
    while len(drawn) < n:
        more = rng.integers(low, high, size=n, dtype=np.int64)
        drawn = np.unique(np.concatenate([drawn, more]))
    return rng.permutation(drawn)[:n]


def member_networks(count: int, seed: int = 7) -> list[Organisation]:
    """Return ``count // 2`` extra member organisations, each with an IPv4 block and an IPv6 /48.

    Half the IPv4 blocks are /24s from 26/8, half /27s from 28/8; none overlaps another
    or a demo member's network.
    """
    orgs = count // 2
    slots = _unique_ints(_rng(seed, "members"), orgs, 0, 1 << 16)
    v4 = pl.DataFrame({"slot": slots}).select(
        net=pl.concat_str(
            ipv4(
                pl.when(pl.int_range(pl.len()) % 2 == 0)
                .then(MEMBER_V4[0] + pl.col("slot") * 256)
                .otherwise(MEMBER_V4[1] + pl.col("slot") * 32)
            ),
            pl.when(pl.int_range(pl.len()) % 2 == 0).then(pl.lit("/24")).otherwise(pl.lit("/27")),
        )
    )["net"]
    hex16 = _hex16()
    # 3fff:0:<n>::/48 with n >= 1, so the third group never drops out of the text.
    v6 = ("3fff:0:" + hex16.gather(pl.Series(np.arange(1, orgs + 1) % (1 << 16))) + "::/48").alias(
        "v6"
    )
    return [
        Organisation(
            code=f"ZB{n:06d}",
            name=f"Benchmark member {n}",
            type=OrgType.OTHER,
            networks=(a, b),
        )
        for n, (a, b) in enumerate(zip(v4.to_list(), v6.to_list(), strict=True))
    ]


def _ip_values(rng: np.random.Generator, n: int) -> pl.DataFrame:
    hosts, cidrs = int(n * IPV4_HOSTS), int(n * IPV4_CIDRS)
    v6 = n - hosts - cidrs
    host_ints = _unique_ints(rng, hosts, *INDICATOR_V4)
    prefixes = rng.choice(CIDR_PREFIXES, size=cidrs * 2)
    starts = rng.integers(*INDICATOR_V4, size=cidrs * 2, dtype=np.int64)
    masks = (0xFFFFFFFF << (32 - prefixes)) & 0xFFFFFFFF
    networks = (
        pl.DataFrame({"start": starts & masks, "prefix": prefixes})
        .unique(maintain_order=True)
        .head(cidrs)
        .select(value=pl.concat_str(ipv4(pl.col("start")), pl.lit("/"), pl.col("prefix")))
    )
    hex16 = _hex16()
    a = pl.Series(rng.integers(0x100, 0x1000, size=v6))
    b = pl.Series(rng.integers(1, 1 << 16, size=v6))
    c = pl.Series(rng.integers(1, 1 << 16, size=v6))
    is_host = pl.Series(np.arange(v6) % 2 == 0)
    v6_text = (
        pl.DataFrame(
            {"a": hex16.gather(a), "b": hex16.gather(b), "c": hex16.gather(c), "h": is_host}
        )
        .select(
            type=pl.when("h").then(pl.lit("ipv6")).otherwise(pl.lit("cidr")),
            value=pl.concat_str(
                pl.lit("3fff:"),
                "a",
                pl.lit(":"),
                "b",
                pl.when("h").then(pl.lit("::") + pl.col("c")).otherwise(pl.lit("::/48")),
            ),
        )
        .unique("value", maintain_order=True)
    )
    return pl.concat(
        [
            pl.DataFrame({"type": "ipv4", "value": pl.select(ipv4(pl.lit(host_ints)))}).select(
                pl.col("type"), pl.col("value").cast(pl.String)
            ),
            networks.select(type=pl.lit("cidr"), value="value"),
            v6_text,
        ]
    )


def _domains(rng: np.random.Generator, n: int) -> pl.DataFrame:
    # Two-thirds registered domains, the rest one or two labels deeper (their hosts).
    depth = rng.choice(np.array([0, 0, 0, 0, 0, 0, 1, 1, 2]), size=n)
    frame = pl.DataFrame(
        {
            "base": labels(rng, n),
            "tld": pl.Series(TLDS).gather(pl.Series(rng.integers(0, len(TLDS), size=n))),
            "sub1": labels(rng, n, 6),
            "sub2": labels(rng, n, 4),
            "depth": depth,
        }
    )
    value = pl.concat_str(pl.col("base"), pl.lit("."), pl.col("tld"))
    value = (
        pl.when(pl.col("depth") == 0)
        .then(value)
        .when(pl.col("depth") == 1)
        .then(pl.concat_str(pl.col("sub1"), pl.lit("."), value))
        .otherwise(pl.concat_str(pl.col("sub2"), pl.lit("."), pl.col("sub1"), pl.lit("."), value))
    )
    return frame.select(type=pl.lit("domain"), value=value).unique("value", maintain_order=True)


def _url_patterns(rng: np.random.Generator, n: int) -> pl.DataFrame:
    token = labels(rng, n, 10)
    host = labels(rng, n, 9)
    tld = pl.Series(TLDS).gather(pl.Series(rng.integers(0, len(TLDS), size=n)))
    kind = pl.Series(rng.integers(0, 4, size=n))
    frame = pl.DataFrame({"token": token, "host": host, "tld": tld, "kind": kind})
    t, h = pl.col("token"), pl.col("host")
    value = (
        pl.when(pl.col("kind") == 0)
        .then(pl.concat_str(pl.lit("*/wp-content/plugins/"), t, pl.lit("/*")))
        .when(pl.col("kind") == 1)
        .then(pl.concat_str(pl.lit("http://"), h, pl.lit("."), pl.col("tld"), pl.lit("/*")))
        .when(pl.col("kind") == 2)
        .then(pl.concat_str(pl.lit("*?cmd="), t, pl.lit("*")))
        .otherwise(pl.concat_str(pl.lit("*/"), t, pl.lit(".php?id=*")))
    )
    return frame.select(type=pl.lit("url_pattern"), value=value).unique(
        "value", maintain_order=True
    )


def indicators(ips: int, domains: int, url_patterns: int, seed: int = 7) -> pl.DataFrame:
    """Return synthetic indicators in ``INDICATOR_SCHEMA`` plus the demo's own set.

    ``ips`` distinct IP/CIDR values, ``domains`` domains and ``url_patterns`` patterns;
    a few of them are listed by a second feed as well, as real feeds overlap.
    """
    rng = _rng(seed, "indicators")
    values = pl.concat(
        [_ip_values(rng, ips), _domains(rng, domains), _url_patterns(rng, url_patterns)]
    )
    n = values.height
    listings = values.with_columns(
        source=pl.Series(FEEDS).gather(pl.Series(rng.integers(0, 2, size=n))),
        severity=pl.Series(SEVERITIES).gather(pl.Series(rng.integers(0, 4, size=n))),
        confidence=pl.Series(rng.integers(40, 101, size=n), dtype=pl.Int32),
        action=pl.when(pl.Series(rng.random(n) < 0.3))
        .then(pl.lit("block"))
        .otherwise(pl.lit("alert")),
        threat=pl.Series(THREATS).gather(pl.Series(rng.integers(0, len(THREATS), size=n))),
    )
    again = listings.filter(pl.Series(rng.random(n) < SECOND_SOURCE)).with_columns(
        source=pl.lit(FEEDS[2]), confidence=pl.col("confidence") // 2
    )
    demo = pl.DataFrame(demo_indicators()).with_columns(pl.col("confidence").cast(pl.Int32))
    return pl.concat([listings, again, demo.select(listings.columns)]).cast(INDICATOR_SCHEMA)  # type: ignore[arg-type]
