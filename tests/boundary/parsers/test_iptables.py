"""Netfilter kernel log parser: prefixes as verdicts, IPv6, rejects, detection."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.boundary.parsers import PARSERS, ParseContext, ParseResult, detect_format, get_parser
from bastion.boundary.parsers.fields import compress_ipv6
from bastion.core.events import EVENT_SCHEMA, LINE_COLUMN

IPTABLES = get_parser("iptables").parse

DROP_SSH = (
    "Nov 25 13:01:02 gw01 kernel: [12345.678901] DROP-IN IN=eth0 OUT= "
    "MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=203.0.113.9 DST=10.0.0.1 LEN=60 TOS=0x00 "
    "PREC=0x00 TTL=52 ID=54321 DF PROTO=TCP SPT=51515 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0"
)
UFW_BLOCK_V6 = (
    "Nov 25 13:01:03 web01 kernel: [ 1234.567890] [UFW BLOCK] IN=eth0 OUT= MAC=33:33:00:00:00:fb "
    "SRC=2001:0db8:0000:0000:0000:0000:0000:0001 DST=2001:0db8:0001:0000:0000:0000:0000:0053 "
    "LEN=72 TC=0 HOPLIMIT=255 FLOWLBL=0 PROTO=UDP SPT=5353 DPT=53 LEN=32"
)
ACCEPT_PING = (
    "2025-11-25T13:01:04.123456+00:00 gw01 kernel: ACCEPT IN=eth1 OUT=eth0 SRC=10.0.0.5 "
    "DST=8.8.8.8 LEN=84 TOS=0x00 PREC=0x00 TTL=63 ID=1 DF PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1"
)
NO_PREFIX_GRE = (
    "Nov 25 13:01:05 gw01 kernel: IN=eth0 OUT= SRC=10.0.0.5 DST=10.0.0.1 LEN=40 PROTO=47"
)


def parse(lines: list[str]) -> ParseResult:
    return IPTABLES(pl.Series(lines, dtype=pl.String), ParseContext(default_year=2025))


def row(line: str) -> dict[str, object]:
    result = parse([line])
    assert result.rejects.height == 0, result.rejects.to_dicts()
    return result.events.row(0, named=True)


def test_dropped_ssh_maps_every_field() -> None:
    result = parse([DROP_SSH])
    assert result.events.columns == [*EVENT_SCHEMA, LINE_COLUMN]
    assert result.events.row(0, named=True) == {
        **dict.fromkeys(EVENT_SCHEMA),
        "@timestamp": datetime(2025, 11, 25, 13, 1, 2, tzinfo=UTC),
        "event.dataset": "iptables",
        "event.action": "drop-in",
        "rule.name": "DROP-IN",
        "event.type": "denied",
        "observer.vendor": "Linux",
        "observer.product": "netfilter",
        "observer.name": "gw01",
        "source.ip": "203.0.113.9",
        "source.port": 51515,
        "destination.ip": "10.0.0.1",
        "destination.port": 22,
        "network.transport": "tcp",
        "network.bytes": 60,
        "event.original": DROP_SSH,
        LINE_COLUMN: 0,
    }


def test_ufw_block_over_ipv6_gives_short_addresses() -> None:
    got = row(UFW_BLOCK_V6)
    assert (got["event.action"], got["event.type"]) == ("ufw block", "denied")
    assert (got["source.ip"], got["destination.ip"]) == ("2001:db8::1", "2001:db8:1::53")
    assert (got["network.transport"], got["destination.port"]) == ("udp", 53)
    assert got["network.bytes"] == 72  # the packet's LEN, not the UDP one after it


def test_accepted_ping_with_rsyslog_time() -> None:
    got = row(ACCEPT_PING)
    assert (got["event.action"], got["event.type"]) == ("accept", "allowed")
    assert got["@timestamp"] == datetime(2025, 11, 25, 13, 1, 4, 123456, tzinfo=UTC)
    assert (got["network.transport"], got["source.port"], got["destination.port"]) == (
        "icmp",
        None,
        None,
    )


def test_rule_without_prefix_has_no_verdict_and_numbered_protocol() -> None:
    got = row(NO_PREFIX_GRE)
    assert (got["event.action"], got["event.type"]) == (None, None)
    assert got["network.transport"] == "gre"


def test_prefix_words_decide_the_verdict() -> None:
    prefixes = ["IPTables-Dropped:", "[UFW ALLOW]", "[UFW AUDIT]", "REJECT-OUT", "fw-pass"]
    lines = [NO_PREFIX_GRE.replace("kernel: ", f"kernel: {p} ") for p in prefixes]
    events = parse(lines).events.sort(LINE_COLUMN)
    assert events.select("event.action", "event.type").rows() == [
        ("iptables-dropped", "denied"),
        ("ufw allow", "allowed"),
        ("ufw audit", None),
        ("reject-out", "denied"),
        ("fw-pass", "allowed"),
    ]


def test_malformed_lines_are_rejected_and_good_ones_still_parse() -> None:
    lines = [
        DROP_SSH,
        "Nov 25 13:01:06 gw01 sshd[1]: Accepted password for root",
        DROP_SSH.replace("SPT=51515", "SPT=http"),
        DROP_SSH.replace("LEN=60", "LEN=big"),
        "",
        ACCEPT_PING,
    ]
    result = parse(lines)
    assert sorted(result.events.get_column(LINE_COLUMN).to_list()) == [0, 5]
    assert dict(result.rejects.iter_rows()) == {
        1: "iptables: no netfilter fields (need IN=, SRC= and DST=)",
        2: "iptables: SPT=http is not a port",
        3: "iptables: LEN=big is not a number",
    }


def test_ipv6_shortening_follows_rfc_5952() -> None:
    addresses = pl.Series(
        [
            "2001:0DB8:0000:0000:0000:0000:0000:0001",
            "0000:0000:0000:0000:0000:0000:0000:0000",
            "0001:0000:0000:0000:0000:0000:0000:0000",
            "2001:0db8:0000:0000:0001:0000:0000:0001",  # two equal runs: the first goes
            "2001:0db8:0000:0001:0001:0001:0001:0001",  # one zero group stays
            "2001:db8::1",
            "10.0.0.1",
            None,
        ]
    )
    assert compress_ipv6(addresses).to_list() == [
        "2001:db8::1",
        "::",
        "1::",
        "2001:db8::1:0:0:1",
        "2001:db8:0:1:1:1:1:1",
        "2001:db8::1",
        "10.0.0.1",
        None,
    ]


@settings(max_examples=60, deadline=None)
@given(
    value=st.one_of(
        st.integers(0, 2**128 - 1),
        # Sparse addresses have the zero runs that make shortening interesting.
        st.lists(st.sampled_from([0, 0, 0, 1, 0xFFFF, 0xAB]), min_size=8, max_size=8).map(
            lambda groups: sum(g << (16 * i) for i, g in enumerate(groups))
        ),
    )
)
def test_ipv6_shortening_matches_the_standard_library(value: int) -> None:
    address = ipaddress.IPv6Address(value)
    assert compress_ipv6(pl.Series([address.exploded])).item() == address.compressed


def test_sample_is_detected_as_iptables_only() -> None:
    sample = [DROP_SSH, UFW_BLOCK_V6, ACCEPT_PING, NO_PREFIX_GRE]
    assert [p.name for p in PARSERS.values() if p.sniff(sample)] == ["iptables"]
    assert detect_format(sample).name == "iptables"
