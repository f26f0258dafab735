"""The retro-hunt's sieve: it lets through every event the match index would match."""

from __future__ import annotations

import ipaddress

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion import intel
from bastion.intel.prefilter import FieldTest, ip_test, prefilter


def _frame(listed: list[tuple[str, str]]) -> pl.DataFrame:
    return intel.indicator_frame(
        intel.Indicator(type=t, value=v, source="s")  # type: ignore[arg-type]
        for t, v in listed
    )


def _passed(test: FieldTest, addresses: list[str]) -> list[str]:
    """Return the addresses of ``addresses`` that pass ``test``."""
    values = pl.Series("destination.ip", addresses, dtype=pl.String)
    return sorted(values.filter(test.passes(values)).to_list())


def _matched(listings: pl.DataFrame, addresses: list[str]) -> list[str]:
    events = pl.DataFrame({"destination.ip": addresses}, schema={"destination.ip": pl.String})
    rows = intel.MatchIndex.from_frame(listings).match(events)["_row"].unique()
    return sorted(events["destination.ip"].gather(rows).to_list())


def _condition(listings: pl.DataFrame) -> FieldTest:
    test = ip_test(listings)
    assert test is not None
    return test


def test_network_text_prefixes_stop_at_octet_boundaries() -> None:
    listings = _frame([("cidr", "10.1.16.0/20"), ("cidr", "172.16.0.0/12"), ("cidr", "9.0.0.0/8")])
    addresses = [
        "10.1.16.0", "10.1.31.255", "10.1.32.0", "10.1.15.9", "10.1.2.3", "10.1.160.1",
        "172.16.0.1", "172.31.9.9", "172.32.0.1", "172.1.2.3", "9.9.9.9", "99.1.1.1", "19.1.1.1",
    ]  # fmt: skip
    assert _passed(_condition(listings), addresses) == sorted(
        ["10.1.16.0", "10.1.31.255", "172.16.0.1", "172.31.9.9", "9.9.9.9"]
    )


def test_narrow_networks_are_looked_for_as_their_addresses() -> None:
    condition = _condition(_frame([("cidr", "192.0.2.8/29"), ("ipv4", "198.51.100.7")]))
    assert not condition.prefixes
    addresses = [
        "192.0.2.7",
        "192.0.2.8",
        "192.0.2.15",
        "192.0.2.16",
        "198.51.100.7",
        "198.51.100.70",
    ]
    assert _passed(condition, addresses) == ["192.0.2.15", "192.0.2.8", "198.51.100.7"]


def test_ipv6_text_passes_by_its_first_group_whatever_its_spelling() -> None:
    listings = _frame(
        [("cidr", "2001:db8::/32"), ("ipv6", "2a00:1450::1"), ("ipv4", "203.0.113.5")]
    )
    addresses = [
        "2001:DB8::1", "2001:0db8:0:0::2", "2a00:1450:0::1", "::ffff:203.0.113.5",
        "2002:db8::1", "fe80::1",
    ]  # fmt: skip
    passed = _passed(_condition(listings), addresses)
    assert set(_matched(listings, addresses)) <= set(passed)
    assert "2002:db8::1" not in passed
    assert "fe80::1" not in passed


_V4 = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))


@settings(max_examples=60, deadline=None)
@given(
    networks=st.lists(
        st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 32)), min_size=1, max_size=6
    ),
    others=st.lists(_V4, max_size=30),
)
def test_ipv4_sieve_is_exactly_the_index(
    networks: list[tuple[int, int]], others: list[str]
) -> None:
    """For dotted-quad text the sieve lets through exactly what the index matches."""
    listed = [
        ipaddress.IPv4Network((address, prefix), strict=False) for address, prefix in networks
    ]
    listings = _frame([("cidr", str(n)) for n in listed])
    # Each network's edges and the addresses just outside it, plus random ones.
    edges = [
        str(ipaddress.IPv4Address(max(0, min(2**32 - 1, int(a) + step))))
        for n in listed
        for a, step in ((n.network_address, 0), (n.network_address, -1),
                        (n.broadcast_address, 0), (n.broadcast_address, 1))
    ]  # fmt: skip
    addresses = list(dict.fromkeys(edges + others))
    assert _passed(_condition(listings), addresses) == _matched(listings, addresses)


def test_prefilter_tests_every_field_in_the_scan_but_url_patterns() -> None:
    listings = _frame(
        [("domain", "evil.example"), ("ipv4", "192.0.2.1"), ("sha256", "ab" * 32),
         ("url", "http://shop.example/pay"), ("url_pattern", "http://*.example/login*")]
    )  # fmt: skip
    columns = {"source.ip", "destination.ip", "url.domain", "url.full", "dns.question.name",
               "file.hash.sha256"}  # fmt: skip
    sieve, by_value = prefilter(listings, columns)
    assert by_value == ["url.full"]  # patterns match normalised URLs: by distinct value
    assert {"ab" * 32, "AB" * 32} <= sieve.tests["file.hash.sha256"].values
    assert sieve.tests["url.domain"].values == {"shop.example"}
    assert sieve.tests["dns.question.name"].tails == {"evil.example"}
    assert sieve.fields == sorted(columns)  # tls.server.name is not archived here


def _names(test: FieldTest, names: list[str | None]) -> list[str]:
    values = pl.Series("dns.question.name", names, dtype=pl.String)
    return sorted(values.filter(test.passes(values)).to_list())


def test_domain_test_cuts_names_by_the_shortest_listed_domain() -> None:
    listings = _frame([("domain", "evil.example"), ("domain", "x.io")])
    sieve, _ = prefilter(listings, {"dns.question.name"})
    test = sieve.tests["dns.question.name"]
    assert (test.tail, test.tails) == (4, {"mple", "x.io"})
    names = [
        "evil.example", "WWW.Evil.Example", "a.b.evil.example", "notevil.example", "x.io",
        "cdn.x.io", "evil.example.", "evil.example ", "example.org", "xio", None,
    ]  # fmt: skip
    # Suffix look-alikes pass (the index rejects them); other names and nulls never.
    assert _names(test, names) == sorted(
        ["evil.example", "WWW.Evil.Example", "a.b.evil.example", "notevil.example", "x.io",
         "cdn.x.io", "evil.example.", "evil.example "]
    )  # fmt: skip


_LABEL = st.text("abcXYZ019", min_size=1, max_size=4)
_NAME = st.lists(_LABEL, min_size=1, max_size=3).map(".".join)
_DOMAIN = st.tuples(_NAME, st.sampled_from(["ab", "io", "Ex"])).map(".".join)  # a real TLD


@settings(max_examples=80, deadline=None)
@given(
    listed=st.lists(_DOMAIN, min_size=1, max_size=5),
    names=st.lists(
        st.tuples(_NAME, st.sampled_from(["", ".", " ", "\t"])).map("".join), max_size=30
    ),
)
def test_domain_sieve_passes_whatever_the_index_matches(
    listed: list[str], names: list[str]
) -> None:
    """Every name the index matches to a listed domain passes the sieve, in any case."""
    listings = _frame([("domain", d.lower()) for d in listed])
    candidates = names + [f"{n}.{d.upper()}" for n, d in zip(names, listed, strict=False)]
    events = pl.DataFrame(
        {"dns.question.name": candidates}, schema={"dns.question.name": pl.String}
    )
    hit = intel.MatchIndex.from_frame(listings).match(events)["_row"].unique()
    sieve, _ = prefilter(listings, {"dns.question.name"})
    passed = sieve.passes(events)
    assert passed.gather(hit).all()


def test_sieve_passes_an_event_when_any_field_does_and_nulls_never() -> None:
    sieve, _ = prefilter(
        _frame([("ipv4", "192.0.2.1"), ("ja3", "a" * 32)]),
        {"source.ip", "destination.ip", "tls.client.ja3"},
    )
    sieve = sieve.with_values("url.domain", ["hit.example"])
    events = pl.DataFrame(
        {
            "source.ip": ["192.0.2.1", None, None, "10.0.0.1", None],
            "destination.ip": [None, "192.0.2.1", None, "10.0.0.2", None],
            "tls.client.ja3": [None, None, "A" * 32, None, None],
            "url.domain": [None, None, None, "miss.example", "hit.example"],
        }
    )
    assert sieve.passes(events).to_list() == [True, True, True, False, True]
