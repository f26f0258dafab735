from __future__ import annotations

import ipaddress

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.boundary.attribute import NetworkIndex, attribute
from bastion.core.errors import InputError
from bastion.core.net import CidrTable, ip_keys, parse_cidrs

FEDERATION = [
    ("10.0.0.0/8", "Y62"),  # a region's block
    ("10.1.0.0/16", "QOP"),  # an ICB inside it
    ("10.1.2.0/24", "R0A"),  # a trust inside the ICB
    ("10.1.2.7/32", "A81001"),  # one practice's host inside the trust
    ("2001:db8::/32", "Y62"),
    ("2001:db8:1::/48", "QOP"),
    ("2001:db8:1:2::/64", "R0A"),
    ("2001:db8:1:2::7/128", "A81001"),
]


def owners(index: NetworkIndex, ips: list[str | None]) -> list[str | None]:
    return index.owners(pl.Series(ips, dtype=pl.String)).to_list()


def test_nested_ipv4_allocations_most_specific_wins() -> None:
    index = NetworkIndex.build(FEDERATION)
    assert owners(index, ["10.9.9.9", "10.1.9.9", "10.1.2.9", "10.1.2.7", "11.0.0.1"]) == [
        "Y62",
        "QOP",
        "R0A",
        "A81001",
        None,
    ]


def test_nested_ipv6_allocations_most_specific_wins() -> None:
    index = NetworkIndex.build(FEDERATION)
    ips = [
        "2001:db8:9::1",
        "2001:db8:1:9::1",
        "2001:db8:1:2::9",
        "2001:DB8:1:2:0:0:0:7",
        "2001:db9::",
    ]
    assert owners(index, ips) == ["Y62", "QOP", "R0A", "A81001", None]


def test_cidr_slash24_matches_network_and_broadcast_but_not_neighbours() -> None:
    index = NetworkIndex.build([("192.0.2.0/24", "R0A")])
    ips = ["192.0.2.0", "192.0.2.255", "192.0.1.255", "192.0.3.0"]
    assert owners(index, ips) == ["R0A", "R0A", None, None]


def test_ipv6_network_edges_are_inside_and_neighbours_outside() -> None:
    index = NetworkIndex.build([("2001:db8:1::/48", "R0A")])
    ips = [
        "2001:db8:1::",
        "2001:db8:1:ffff:ffff:ffff:ffff:ffff",
        "2001:db8:0:ffff::1",
        "2001:db8:2::",
    ]
    assert owners(index, ips) == ["R0A", "R0A", None, None]


def test_host_networks_slash32_and_slash128_cover_exactly_one_address() -> None:
    index = NetworkIndex.build([("198.51.100.7/32", "R0A"), ("2001:db8::7/128", "QOP")])
    ips = ["198.51.100.7", "198.51.100.6", "198.51.100.8", "2001:db8::7", "2001:db8::8"]
    assert owners(index, ips) == ["R0A", None, None, "QOP", None]


def test_slash0_covers_its_own_family_only() -> None:
    index = NetworkIndex.build([("0.0.0.0/0", "Y62"), ("10.0.0.0/8", "R0A")])
    ips = ["0.0.0.0", "255.255.255.255", "10.0.0.1", "2001:db8::1"]
    assert owners(index, ips) == ["Y62", "Y62", "R0A", None]
    ipv6_everything = NetworkIndex.build([("::/0", "QOP")])
    assert owners(
        ipv6_everything, ["::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "1.2.3.4"]
    ) == [
        "QOP",
        "QOP",
        None,
    ]


def test_invalid_ip_strings_match_nothing_and_do_not_fail_the_batch() -> None:
    index = NetworkIndex.build([("0.0.0.0/0", "Y62"), ("::/0", "QOP")])
    bad = ["", "abc", "1.2.3.256", "01.2.3.4", "1.2.3", "1.2.3.4.5", " 1.2.3.4", "+1.2.3.4"]
    bad += ["1.2.3.4:80", "1::2::3", "12345::", "g::1", ":::", "1:2:3:4:5:6:7:8:9", None]
    assert owners(index, bad) == [None] * len(bad)


def test_ipv4_mapped_ipv6_address_belongs_to_the_ipv4_network() -> None:
    index = NetworkIndex.build([("192.0.2.0/24", "R0A")])
    assert owners(index, ["::ffff:192.0.2.10", "::ffff:c000:20a", "::192.0.2.10"]) == [
        "R0A",
        "R0A",
        None,
    ]


def test_attribute_prefers_source_then_destination_and_names_the_member_host() -> None:
    index = NetworkIndex.build(FEDERATION)
    events = pl.DataFrame(
        {
            "source.ip": ["10.1.2.9", "203.0.113.5", "203.0.113.5", "10.1.2.7", None],
            "destination.ip": ["203.0.113.5", "10.1.9.9", "198.51.100.1", "10.9.9.9", "10.1.2.9"],
            "event.action": ["a", "b", "c", "d", "e"],
        }
    )
    out = attribute(events, index)
    assert out["organization.id"].to_list() == ["R0A", "QOP", None, "A81001", "R0A"]
    assert out["host.ip"].to_list() == ["10.1.2.9", "10.1.9.9", None, "10.1.2.7", "10.1.2.9"]
    assert out["event.action"].to_list() == ["a", "b", "c", "d", "e"]


def test_attribute_replaces_existing_columns_and_keeps_row_order() -> None:
    index = NetworkIndex.build([("192.0.2.0/24", "R0A")])
    ips = [f"192.0.{2 + i % 2}.{i % 250}" for i in range(500)]
    events = pl.DataFrame(
        {"source.ip": ips, "destination.ip": [None] * 500, "organization.id": ["stale"] * 500}
    )
    out = attribute(events, index)
    assert out.columns.count("organization.id") == 1
    assert out["organization.id"].to_list() == ["R0A" if i % 2 == 0 else None for i in range(500)]


def test_attribute_handles_empty_batches_missing_columns_and_no_networks() -> None:
    index = NetworkIndex.build([])
    out = attribute(pl.DataFrame({"source.ip": ["10.0.0.1"]}), index)
    assert out["organization.id"].to_list() == [None]
    assert out["host.ip"].to_list() == [None]
    empty = attribute(pl.DataFrame(schema={"source.ip": pl.String}), NetworkIndex.build(FEDERATION))
    assert empty.height == 0
    assert {"organization.id", "host.ip"} <= set(empty.columns)


def test_build_rejects_an_invalid_network_naming_it_and_its_owner() -> None:
    with pytest.raises(InputError, match=r"10\.0\.0\.1/8.*R0A"):
        NetworkIndex.build([("10.0.0.0/8", "Y62"), ("10.0.0.1/8", "R0A")])


def test_build_rejects_one_network_given_to_two_organisations() -> None:
    with pytest.raises(InputError, match=r"10\.0\.0\.0/8.*QOP, R0A"):
        NetworkIndex.build([("10.0.0.0/8", "R0A"), ("10.0.0.0/8", "QOP")])
    same_twice = NetworkIndex.build([("10.0.0.0/8", "R0A"), ("10.0.0.0/8", "R0A")])
    assert owners(same_twice, ["10.0.0.1"]) == ["R0A"]


def test_parse_cidrs_rejects_host_bits_and_bad_prefixes() -> None:
    cidrs = ["10.0.0.0/8", "10.0.0.1/8", "10.0.0.0/33", "x/8", "10.0.0.0/", "2001:db8::/129", None]
    assert parse_cidrs(pl.Series(cidrs))["prefix"].to_list() == [
        8,
        None,
        None,
        None,
        None,
        None,
        None,
    ]


def test_cidr_table_lists_every_covering_network_most_specific_first() -> None:
    table = CidrTable.build(pl.Series(["10.0.0.0/8", "10.1.0.0/16", "10.1.2.3", "172.16.0.0/12"]))
    covering = table.covering(pl.Series(["10.1.2.3", "10.2.0.0", "8.8.8.8"]))
    assert sorted(covering.rows()) == [(0, 0), (0, 1), (0, 2), (1, 0)]


def _reference_key(text: str | None) -> tuple[int | None, int | None]:
    try:
        address = ipaddress.ip_address(text or "")
    except ValueError:
        return None, None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return int(address.ipv4_mapped), None
    return (int(address), None) if address.version == 4 else (None, int(address))


v4_addresses = st.integers(0, 2**32 - 1).map(lambda n: ipaddress.IPv4Address(n))
v6_addresses = st.integers(0, 2**128 - 1).map(lambda n: ipaddress.IPv6Address(n))
address_text = st.one_of(
    v4_addresses.map(str),
    v6_addresses.map(str),
    v6_addresses.map(lambda a: a.exploded),
    v6_addresses.map(lambda a: a.compressed.upper()),
    v4_addresses.map(lambda a: f"::ffff:{a}"),
    st.text(alphabet="0123456789abcdef:.", max_size=20),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(address_text, max_size=30))
def test_ip_keys_agree_with_ipaddress(texts: list[str]) -> None:
    keys = ip_keys(pl.Series(texts, dtype=pl.String))
    assert list(zip(keys.v4.to_list(), keys.v6.to_list(), strict=True)) == [
        _reference_key(t) for t in texts
    ]


def _network(draw: st.DrawFn) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if draw(st.booleans()):
        # Few distinct top bits, so random networks nest and overlap often.
        base = draw(st.sampled_from([0x0A000000, 0xC0A80000, 0xFFFFFF00])) + draw(
            st.integers(0, 255)
        )
        return ipaddress.ip_network((base, draw(st.integers(0, 32))), strict=False)
    base6 = (0x20010DB8 << 96) + draw(st.integers(0, 2**16))
    return ipaddress.ip_network((base6, draw(st.integers(16, 128))), strict=False)


@st.composite
def federations(draw: st.DrawFn) -> tuple[list[tuple[str, str]], list[str]]:
    networks = {str(_network(draw)) for _ in range(draw(st.integers(0, 12)))}
    pairs = [(cidr, f"ORG{i}") for i, cidr in enumerate(sorted(networks))]
    inside = [
        str(
            ipaddress.ip_network(c)[
                draw(st.integers(0, min(ipaddress.ip_network(c).num_addresses - 1, 2**20)))
            ]
        )
        for c, _ in pairs
    ]
    ips = inside + draw(
        st.lists(st.one_of(v4_addresses.map(str), v6_addresses.map(str)), max_size=10)
    )
    return pairs, ips


def _reference_owner(pairs: list[tuple[str, str]], ip: str) -> str | None:
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:a.b.c.d is the IPv4 host it names (core.net)
    covering = [
        (ipaddress.ip_network(cidr).prefixlen, owner)
        for cidr, owner in pairs
        if address.version == ipaddress.ip_network(cidr).version
        and address in ipaddress.ip_network(cidr)
    ]
    return max(covering)[1] if covering else None


@settings(max_examples=30, deadline=None)
@given(federations())
def test_vectorised_attribution_equals_naive_reference(
    federation: tuple[list[tuple[str, str]], list[str]],
) -> None:
    pairs, ips = federation
    index = NetworkIndex.build(pairs)
    assert owners(index, list(ips)) == [_reference_owner(pairs, ip) for ip in ips]
