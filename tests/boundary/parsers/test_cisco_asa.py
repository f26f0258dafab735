"""Cisco ASA parser: each message family, who is the source, rejects, detection."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from bastion.boundary.parsers import PARSERS, ParseContext, ParseResult, detect_format, get_parser
from bastion.core.events import EVENT_SCHEMA, LINE_COLUMN

ASA = get_parser("cisco-asa").parse

BUILT_OUT = (
    "<166>Nov 25 2025 13:01:02 asa01 : %ASA-6-302013: Built outbound TCP connection 2143 for "
    "outside:198.51.100.8/80 (198.51.100.8/80) to inside:10.1.1.2/1064 (203.0.113.1/1064)"
)
BUILT_IN = (
    "<166>Nov 25 2025 13:01:03 asa01 : %ASA-6-302013: Built inbound TCP connection 9 for "
    "outside:203.0.113.5/40000 (203.0.113.5/40000)(LOCAL\\alice) to dmz:10.0.0.5/443 "
    "(192.0.2.5/443)"
)
TEARDOWN_TCP = (
    "Nov 25 13:01:04 asa01 %ASA-6-302014: Teardown TCP connection 2143 for "
    "outside:198.51.100.8/80 to inside:10.1.1.2/1064 duration 0:00:30 bytes 1234 TCP FINs"
)
TEARDOWN_UDP = (
    "<166>Nov 25 2025 13:01:05: %ASA-6-302016: Teardown UDP connection 6 for "
    "inside:10.1.1.2/53211 to outside:8.8.8.8/53 duration 0:02:01 bytes 312"
)
DENY_ACL = (
    "<164>Nov 25 2025 13:01:06 asa01 : %ASA-4-106023: Deny tcp src outside:192.0.2.10/54321 "
    'dst inside:10.0.0.5/23 by access-group "outside_access_in" [0x0, 0x0]'
)
DENY_ICMP = (
    "<164>Nov 25 2025 13:01:06 asa01 : %ASA-4-106023: Deny icmp src outside:192.0.2.10 "
    'dst inside:10.0.0.5 (type 8, code 0) by access-group "outside_access_in" [0x0, 0x0]'
)
INBOUND_DENIED = (
    "%ASA-2-106001: Inbound TCP connection denied from 192.0.2.10/54321 to 10.0.0.5/23 "
    "flags SYN on interface outside"
)
DENY_INBOUND_UDP = (
    "%ASA-2-106006: Deny inbound UDP from 192.0.2.10/5353 to 10.0.0.5/161 on interface outside"
)
DENY_NO_CONNECTION = (
    "%ASA-6-106015: Deny TCP (no connection) from 192.0.2.10/443 to 10.0.0.5/51234 "
    "flags RST on interface outside"
)
ACL_DENIED = (
    "%ASA-6-106100: access-list outside_access_in denied tcp outside/192.0.2.10(54321) -> "
    "inside/10.0.0.5(22) hit-cnt 1 first hit [0x1234abcd, 0x0]"
)
ACL_PERMITTED_V6 = (
    "%ASA-6-106100: access-list inside_in permitted udp inside/2001:db8::5(5353) -> "
    "outside/2001:db8:1::53(53) hit-cnt 1 first hit [0x1234abcd, 0x0]"
)
ACL_DENIED_TO_DEVICE = (
    "%ASA-3-710003: TCP access denied by ACL from 203.0.113.5/41234 to outside:198.51.100.1/22"
)
FTD_BUILT = (
    "%FTD-6-302015: Built outbound UDP connection 7 for outside:8.8.8.8/53 (8.8.8.8/53) to "
    "inside:10.1.1.2/53211 (203.0.113.1/53211)"
)


def parse(lines: list[str]) -> ParseResult:
    return ASA(pl.Series(lines, dtype=pl.String), ParseContext(default_year=2025))


def row(line: str) -> dict[str, object]:
    result = parse([line])
    assert result.rejects.height == 0, result.rejects.to_dicts()
    return result.events.row(0, named=True)


def test_built_outbound_maps_every_field_with_the_inside_host_as_source() -> None:
    result = parse([BUILT_OUT])
    assert result.events.columns == [*EVENT_SCHEMA, LINE_COLUMN]
    assert result.events.row(0, named=True) == {
        **dict.fromkeys(EVENT_SCHEMA),
        "@timestamp": datetime(2025, 11, 25, 13, 1, 2, tzinfo=UTC),
        "event.dataset": "cisco.asa",
        "event.action": "built",
        "event.type": "allowed",
        "observer.vendor": "Cisco",
        "observer.product": "ASA",
        "observer.name": "asa01",
        "source.ip": "10.1.1.2",
        "source.port": 1064,
        "destination.ip": "198.51.100.8",
        "destination.port": 80,
        "source.nat.ip": "203.0.113.1",
        "source.nat.port": 1064,
        "destination.nat.ip": "198.51.100.8",
        "destination.nat.port": 80,
        "network.transport": "tcp",
        "event.original": BUILT_OUT,
        LINE_COLUMN: 0,
    }


def test_built_inbound_takes_the_outside_host_as_source_despite_a_user_tag() -> None:
    got = row(BUILT_IN)
    assert (got["source.ip"], got["source.port"]) == ("203.0.113.5", 40000)
    assert (got["destination.ip"], got["destination.port"]) == ("10.0.0.5", 443)


@pytest.mark.parametrize("line", [TEARDOWN_TCP, TEARDOWN_UDP], ids=["server-first", "client-first"])
def test_teardown_takes_the_lower_port_as_the_server(line: str) -> None:
    got = row(line)
    assert got["event.action"] == "teardown"
    assert got["event.type"] == "allowed"
    assert got["source.ip"] == "10.1.1.2"
    assert got["destination.port"] in {53, 80}


def test_teardown_carries_bytes_and_header_time() -> None:
    tcp, udp = row(TEARDOWN_TCP), row(TEARDOWN_UDP)
    assert (tcp["network.bytes"], udp["network.bytes"]) == (1234, 312)
    assert (tcp["network.transport"], udp["network.transport"]) == ("tcp", "udp")
    assert tcp["@timestamp"] == datetime(2025, 11, 25, 13, 1, 4, tzinfo=UTC)
    assert (tcp["observer.name"], udp["observer.name"]) == ("asa01", None)


def test_access_group_deny_names_the_acl() -> None:
    got = row(DENY_ACL)
    assert (got["event.action"], got["event.type"], got["rule.name"]) == (
        "deny",
        "denied",
        "outside_access_in",
    )
    assert (got["source.ip"], got["source.port"]) == ("192.0.2.10", 54321)
    assert (got["destination.ip"], got["destination.port"]) == ("10.0.0.5", 23)


def test_icmp_deny_has_no_ports() -> None:
    got = row(DENY_ICMP)
    assert got["network.transport"] == "icmp"
    assert (got["source.port"], got["destination.port"]) == (None, None)
    assert (got["source.ip"], got["destination.ip"]) == ("192.0.2.10", "10.0.0.5")


@pytest.mark.parametrize(
    ("line", "action", "transport"),
    [
        (INBOUND_DENIED, "denied", "tcp"),
        (DENY_INBOUND_UDP, "deny", "udp"),
        (DENY_NO_CONNECTION, "deny", "tcp"),
        (ACL_DENIED, "denied", "tcp"),
        (ACL_DENIED_TO_DEVICE, "denied", "tcp"),
    ],
)
def test_inbound_denies(line: str, action: str, transport: str) -> None:
    got = row(line)
    assert (got["event.action"], got["event.type"], got["network.transport"]) == (
        action,
        "denied",
        transport,
    )
    assert got["source.ip"] in {"192.0.2.10", "203.0.113.5"}
    assert got["@timestamp"] is None  # no syslog header, no time


def test_acl_permit_over_ipv6() -> None:
    got = row(ACL_PERMITTED_V6)
    assert (got["event.action"], got["event.type"], got["rule.name"]) == (
        "permitted",
        "allowed",
        "inside_in",
    )
    assert (got["source.ip"], got["source.port"]) == ("2001:db8::5", 5353)
    assert (got["destination.ip"], got["destination.port"]) == ("2001:db8:1::53", 53)


def test_firepower_threat_defense_messages_are_read_too() -> None:
    got = row(FTD_BUILT)
    assert got["observer.product"] == "FTD"
    assert (got["source.ip"], got["destination.ip"], got["network.transport"]) == (
        "10.1.1.2",
        "8.8.8.8",
        "udp",
    )


def test_unknown_and_malformed_messages_are_rejected_and_good_ones_still_parse() -> None:
    lines = [
        BUILT_OUT,
        "<165>Nov 25 2025 13:01:02 asa01 : %ASA-5-111008: User 'enable_15' executed 'write mem'",
        "%ASA-6-302013: Built sideways TCP connection 1 for a:1.2.3.4/5",
        "just some text",
        "%ASA-4-106023: Deny tcp src outside:192.0.2.1/99999 dst inside:10.0.0.5/23 "
        'by access-group "x"',
        "",
        ACL_DENIED,
    ]
    result = parse(lines)
    assert sorted(result.events.get_column(LINE_COLUMN).to_list()) == [0, 6]
    assert dict(result.rejects.iter_rows()) == {
        1: "cisco-asa: ASA message 111008 is not read",
        2: "cisco-asa: ASA message 302013 does not have the layout 'Built inbound|outbound "
        "TCP|UDP connection ID for IF:IP/PORT (IP/PORT) to IF:IP/PORT (IP/PORT)'",
        3: "cisco-asa: no %ASA-<level>-<id>: message id in the line",
        4: "cisco-asa: a port of 99999/23/-/- is not a port number",
    }


def test_sample_is_detected_as_cisco_asa_only() -> None:
    sample = [BUILT_OUT, TEARDOWN_TCP, DENY_ACL, ACL_DENIED, FTD_BUILT]
    assert [p.name for p in PARSERS.values() if p.sniff(sample)] == ["cisco-asa"]
    assert detect_format(sample).name == "cisco-asa"
