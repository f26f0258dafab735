"""Netfilter fidelity (issue 23): EdgeOS tags, one verdict table, ICMP errors, rule names."""

from __future__ import annotations

import polars as pl
import pytest

from bastion.boundary.parsers import ParseContext, get_parser

HEADER = "Nov 25 13:01:06 ubnt kernel: "
FIELDS = "IN=eth0 OUT=eth1 SRC=198.51.100.23 DST=192.168.1.10 LEN=44 PROTO=TCP SPT=40123 DPT=3389"


def row(line: str) -> dict[str, object]:
    result = get_parser("iptables").parse(pl.Series([line]), ParseContext(default_year=2025))
    assert result.rejects.height == 0, result.rejects.to_dicts()
    return result.events.row(0, named=True)


def test_an_edgeos_tag_running_into_in_is_read_as_the_rule() -> None:
    got = row(f"{HEADER}[wan-lan-default-D]{FIELDS}")
    assert (got["rule.name"], got["event.action"], got["event.type"]) == (
        "wan-lan-default-D",
        "wan-lan-default-d",
        "denied",
    )
    assert (got["source.ip"], got["destination.port"]) == ("198.51.100.23", 3389)


@pytest.mark.parametrize(
    ("tag", "verdict"),
    [
        ("DENY:", "denied"),
        ("DROP", "denied"),
        ("REJECT", "denied"),
        ("[BLOCK]", "denied"),
        ("[UFW BLOCK]", "denied"),
        ("LOGDROP", "denied"),
        ("ACCEPT", "allowed"),
        ("ALLOW", "allowed"),
        ("[WAN_LOCAL-10-A]", "allowed"),
        ("[LAN_IN-20-R]", "denied"),
        ("[WAN_IN-default-D]", "denied"),
        ("LOG-IN", None),
        ("FW-IN:", None),
    ],
)
def test_tags_map_to_a_verdict_through_one_table_and_unknown_is_null(
    tag: str, verdict: str | None
) -> None:
    assert row(f"{HEADER}{tag} {FIELDS}")["event.type"] == verdict


def test_an_icmp_error_takes_the_outer_packet_and_no_ports_from_the_inner_one() -> None:
    got = row(
        f"{HEADER}DROP IN=eth0 OUT= SRC=192.0.2.13 DST=10.0.0.1 LEN=56 PROTO=ICMP TYPE=3 "
        "CODE=3 [SRC=10.0.0.1 DST=192.0.2.13 LEN=28 PROTO=UDP SPT=53 DPT=40000 LEN=8 ]"
    )
    assert (got["source.ip"], got["destination.ip"]) == ("192.0.2.13", "10.0.0.1")
    assert (got["source.port"], got["destination.port"]) == (None, None)
    assert (got["network.transport"], got["network.bytes"]) == ("icmp", 56)


def test_a_name_in_an_address_field_is_rejected() -> None:
    line = f"{HEADER}DROP IN=eth0 OUT= SRC=attacker.example DST=10.0.0.1 LEN=40 PROTO=TCP"
    result = get_parser("iptables").parse(pl.Series([line]), ParseContext())
    assert result.rejects.get_column("reason").to_list() == [
        "iptables: SRC=attacker.example or DST=10.0.0.1 is not an IP address"
    ]
