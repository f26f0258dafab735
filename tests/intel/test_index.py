from __future__ import annotations

import ipaddress

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.intel import MATCH_SCHEMA, Indicator, IndicatorType, MatchIndex
from bastion.intel.tables import domain_suffixes

T = IndicatorType


def hits(index: MatchIndex, **columns: list[str | None]) -> set[tuple[int, str, str]]:
    """Return the (row, indicator id, field) hits of events made of ``columns``."""
    events = pl.DataFrame(
        {k.replace("_", "."): pl.Series(v, dtype=pl.String) for k, v in columns.items()}
    )
    found = index.match(events)
    assert found.schema == pl.Schema(MATCH_SCHEMA)
    return set(found.select("_row", "indicator.id", "match.field").iter_rows())


def index_of(*indicators: tuple[IndicatorType, str]) -> MatchIndex:
    return MatchIndex.build(Indicator(kind, value, "feed") for kind, value in indicators)


def test_ipv4_indicator_hits_source_and_destination_but_not_the_neighbour() -> None:
    index = index_of((T.IPV4, "192.0.2.7"))
    found = hits(
        index, source_ip=["192.0.2.7", "192.0.2.8"], destination_ip=["10.0.0.1", "192.0.2.7"]
    )
    assert found == {(0, "ipv4:192.0.2.7", "source.ip"), (1, "ipv4:192.0.2.7", "destination.ip")}


def test_cidr_slash24_matches_edge_addresses_only_inside() -> None:
    index = index_of((T.CIDR, "198.51.100.0/24"))
    ips = ["198.51.100.0", "198.51.100.255", "198.51.99.255", "198.51.101.0"]
    assert {r for r, _, _ in hits(index, source_ip=ips)} == {0, 1}


def test_every_covering_ip_indicator_hits_not_only_the_narrowest() -> None:
    index = index_of((T.CIDR, "10.0.0.0/8"), (T.CIDR, "10.1.0.0/16"), (T.IPV4, "10.1.2.3"))
    found = hits(index, source_ip=["10.1.2.3", "10.2.0.1"])
    assert found == {
        (0, "cidr:10.0.0.0/8", "source.ip"),
        (0, "cidr:10.1.0.0/16", "source.ip"),
        (0, "ipv4:10.1.2.3", "source.ip"),
        (1, "cidr:10.0.0.0/8", "source.ip"),
    }


def test_ipv6_indicators_hit_in_any_spelling() -> None:
    index = index_of((T.IPV6, "2001:db8::7"), (T.CIDR, "2001:db8:1::/48"))
    found = hits(
        index,
        source_ip=["2001:DB8:0:0:0:0:0:7", "2001:db8:1:ffff::1", "2001:db8:2::", "2001:db8::8"],
    )
    assert {(r, i) for r, i, _ in found} == {(0, "ipv6:2001:db8::7"), (1, "cidr:2001:db8:1::/48")}


def test_domain_hits_itself_and_subdomains_but_not_lookalikes() -> None:
    index = index_of((T.DOMAIN, "evil.example"))
    domains = [
        "evil.example",
        "a.b.evil.example",
        "EVIL.EXAMPLE.",
        "notevil.example",
        "evil.example.org",
        "example",
        "evil-example",
        None,
    ]
    assert {r for r, _, _ in hits(index, url_domain=domains)} == {0, 1, 2}


def test_domain_is_matched_in_every_domain_field() -> None:
    index = index_of((T.DOMAIN, "evil.example"))
    found = hits(
        index,
        url_domain=["x.evil.example", None],
        dns_question_name=[None, "evil.example"],
        tls_server_name=["evil.example", None],
    )
    assert found == {
        (0, "domain:evil.example", "url.domain"),
        (0, "domain:evil.example", "tls.server.name"),
        (1, "domain:evil.example", "dns.question.name"),
    }


def test_top_level_domain_indicator_hits_the_whole_zone() -> None:
    index = index_of((T.DOMAIN, "zip"))
    assert {r for r, _, _ in hits(index, dns_question_name=["a.b.zip", "zip.example"])} == {0}


def test_url_indicator_hits_the_normalised_url_exactly() -> None:
    index = index_of((T.URL, "http://evil.example/payload?id=1"))
    urls = [
        "HTTP://Evil.Example:80/payload?id=1",
        "http://evil.example/payload?id=2",
        "http://evil.example/Payload?id=1",
    ]
    assert {r for r, _, _ in hits(index, url_full=urls)} == {0}


def test_url_pattern_wildcard_hits_and_near_misses() -> None:
    index = index_of((T.URL_PATTERN, "http://evil.example/*.exe"), (T.URL_PATTERN, "/wp-login"))
    urls = [
        "http://evil.example/a/b.exe?x=1",  # anchored prefix with a wildcard
        "HTTP://EVIL.EXAMPLE:80/X.EXE",  # case and default port do not matter
        "http://evil.example.net/a.exe",  # another host
        "https://evil.example/a.exe",  # another scheme
        "http://other.example/evil.example/a.exe",  # anchored: not in the middle
        "https://site.example/blog/wp-login.php",  # substring pattern
        "https://site.example/wp-logi",
        "/wp-login.php?x",  # a relative request line
    ]
    found = hits(index, url_full=urls)
    assert found == {
        (0, "url_pattern:http://evil.example/*.exe", "url.full"),
        (1, "url_pattern:http://evil.example/*.exe", "url.full"),
        (5, "url_pattern:/wp-login", "url.full"),
        (7, "url_pattern:/wp-login", "url.full"),
    }


def test_patterns_sharing_a_key_are_each_checked() -> None:
    index = index_of((T.URL_PATTERN, "*/admin/*.php"), (T.URL_PATTERN, "*/admin/*.asp"))
    found = hits(index, url_full=["http://a.example/admin/x.php", "http://a.example/admin/y.asp"])
    assert {(r, i) for r, i, _ in found} == {
        (0, "url_pattern:*/admin/*.php"),
        (1, "url_pattern:*/admin/*.asp"),
    }


def test_fingerprints_and_hashes_hit_exactly() -> None:
    ja4 = "t13d1516h2_8daaf6152771_b186095e22b6"
    index = index_of((T.JA3, "a" * 32), (T.JA4, ja4), (T.SHA256, "b" * 64), (T.MD5, "c" * 32))
    found = hits(
        index,
        tls_client_ja3=["A" * 32, "a" * 31 + "b"],
        tls_client_ja4=[None, ja4],
        file_hash_sha256=["b" * 64, "b" * 63 + "c"],
    )
    assert found == {
        (0, "ja3:" + "a" * 32, "tls.client.ja3"),
        (1, "ja4:" + ja4, "tls.client.ja4"),
        (0, "sha256:" + "b" * 64, "file.hash.sha256"),
    }


def test_same_indicator_from_two_sources_is_one_hit_with_both_sources() -> None:
    index = MatchIndex.build(
        [
            Indicator(
                T.DOMAIN,
                "evil.example",
                "misp",
                severity="low",
                action="alert",  # type: ignore[arg-type]
                confidence=40,
                threat="Emotet",
            ),
            Indicator(
                T.DOMAIN,
                "Evil.Example.",
                "abuse.ch",
                severity="high",
                action="block",  # type: ignore[arg-type]
                confidence=90,
                threat="Heodo",
            ),
        ]
    )
    assert len(index) == 1
    found = index.match(pl.DataFrame({"url.domain": ["www.evil.example"]}))
    assert found.height == 1
    row = found.row(0, named=True)
    assert row["indicator.id"] == "domain:evil.example"
    assert row["indicator.sources"] == ["abuse.ch", "misp"]
    assert row["indicator.source"] == "abuse.ch, misp"
    assert (row["indicator.severity"], row["indicator.action"], row["indicator.confidence"]) == (
        "high",
        "block",
        90,
    )
    assert row["indicator.threat"] == "Emotet; Heodo"


def test_email_indicators_are_kept_but_match_no_event_field() -> None:
    index = index_of((T.EMAIL, "phish@evil.example"))
    assert len(index) == 1
    assert hits(index, url_full=["mailto:phish@evil.example"], url_domain=["evil.example"]) == set()


def test_rows_point_at_the_events_and_come_sorted() -> None:
    index = index_of((T.IPV4, "192.0.2.1"), (T.DOMAIN, "evil.example"))
    events = pl.DataFrame(
        {
            "source.ip": ["10.0.0.1"] * 5 + ["192.0.2.1"],
            "url.domain": ["ok.example", "evil.example", None, "ok.example", "evil.example", None],
        }
    )
    found = index.match(events)
    assert found["_row"].to_list() == [1, 4, 5]
    assert events[found["_row"].to_list(), "url.domain"].to_list() == ["evil.example"] * 2 + [None]


def test_empty_index_events_and_missing_columns() -> None:
    assert MatchIndex.build([]).match(pl.DataFrame({"source.ip": ["192.0.2.1"]})).is_empty()
    index = index_of((T.IPV4, "192.0.2.1"))
    assert index.match(pl.DataFrame({"source.ip": []}, schema={"source.ip": pl.String})).is_empty()
    assert index.match(pl.DataFrame({"event.action": ["allow"]})).is_empty()


labels = st.sampled_from(["a", "b", "evil", "vil", "example", "com"])
domains = st.lists(labels, min_size=1, max_size=4).map(".".join)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(domains, max_size=6, unique=True), st.lists(st.one_of(st.none(), domains), max_size=12)
)
def test_domain_matching_equals_naive_suffix_reference(
    listed: list[str], seen: list[str | None]
) -> None:
    index = index_of(*((T.DOMAIN, d) for d in listed))
    expected = {
        (row, f"domain:{d}", "dns.question.name")
        for row, name in enumerate(seen)
        for d in listed
        if name is not None and (name == d or name.endswith("." + d))
    }
    assert hits(index, dns_question_name=seen) == expected


networks = st.tuples(st.integers(0, 2**12 - 1), st.integers(20, 32)).map(
    lambda t: ipaddress.ip_network((0xC0A80000 + (t[0] << 4), t[1]), strict=False)
)
addresses = st.integers(0, 2**16 - 1).map(lambda n: str(ipaddress.IPv4Address(0xC0A80000 + n)))


@settings(max_examples=30, deadline=None)
@given(st.lists(networks, max_size=8, unique=True), st.lists(addresses, max_size=12))
def test_ip_matching_equals_naive_reference(
    listed: list[ipaddress.IPv4Network], seen: list[str]
) -> None:
    index = index_of(*((T.CIDR, str(n)) for n in listed))
    expected = set()
    for row, ip in enumerate(seen):
        for network in listed:
            if ipaddress.ip_address(ip) in network:
                kind = "ipv4" if network.prefixlen == 32 else "cidr"
                value = network.network_address if network.prefixlen == 32 else network
                expected.add((row, f"{kind}:{value}", "destination.ip"))
    assert hits(index, destination_ip=list(seen)) == expected


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("a.b.Evil.COM", ["evil.com", "b.evil.com", "a.b.evil.com"]),
        ("evil.com.", ["evil.com"]),  # a trailing dot is not a label
        ("notevil.com", ["notevil.com"]),  # whole labels only
        ("x..evil.com", ["evil.com", ".evil.com", "x..evil.com"]),  # an empty label counts
        ("localhost", []),
        (None, []),
    ],
)
def test_domain_suffixes_cut_whole_labels_from_the_right(
    domain: str | None, expected: list[str]
) -> None:
    got = domain_suffixes(pl.Series([domain], dtype=pl.String), [2, 3, 4])
    assert got["suffix"].to_list() == expected
    assert set(got["pos"].to_list()) <= {0}
