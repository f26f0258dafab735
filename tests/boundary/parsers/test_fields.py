"""Every parser normalises a field the same way: one table of cases, run through each path.

The helpers in ``bastion.boundary.parsers.fields`` are what every parser calls; the
first tests run each helper over the shared cases, and check that no parser carries a
helper of its own. The end-to-end tests put the same awkward values (a protocol number,
a host name with trailing dots in mixed case, a port with a space) into a real line of
each format and check the event carries the one answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import polars as pl
import pytest
from tests.boundary.parsers import (
    test_cef,
    test_cisco_asa,
    test_fortigate,
    test_iptables,
    test_panos,
    test_squid,
    test_webaccess,
)

from bastion.boundary.parsers import (
    ParseContext,
    cef,
    cisco_asa,
    ecs_json,
    fields,
    fortigate,
    get_parser,
    iptables,
    panos,
    panos_records,
    squid,
    webaccess,
    zeek,
)
from bastion.boundary.parsers.results import with_numbers

Helper = Callable[[pl.Expr], pl.Expr]
DIGEST = "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"

CASES: list[tuple[str, Helper, str | None, Any]] = [
    # transport: IANA numbers become IANA keywords; names are lower-cased.
    ("transport", fields.transport, "132", "sctp"),
    ("transport", fields.transport, "6", "tcp"),
    ("transport", fields.transport, "17", "udp"),
    ("transport", fields.transport, "1", "icmp"),
    ("transport", fields.transport, "58", "ipv6-icmp"),
    ("transport", fields.transport, "ICMPv6", "ipv6-icmp"),
    ("transport", fields.transport, "TCP", "tcp"),
    ("transport", fields.transport, "Udp", "udp"),
    ("transport", fields.transport, "", None),
    ("transport", fields.transport, None, None),
    # domain: lower-case, every trailing dot gone, blank is null.
    ("domain", fields.domain, "Example.COM..", "example.com"),
    ("domain", fields.domain, "WWW.Example.ORG.", "www.example.org"),
    ("domain", fields.domain, "example.com", "example.com"),
    ("domain", fields.domain, ".", None),
    ("domain", fields.domain, "", None),
    # port: trimmed, decimal, 0-65535.
    ("port", fields.port, " 80", 80),
    ("port", fields.port, "443 ", 443),
    ("port", fields.port, "0", 0),
    ("port", fields.port, "65535", 65535),
    ("port", fields.port, "65536", None),
    ("port", fields.port, "-1", None),
    ("port", fields.port, "http", None),
    ("port", fields.port, "8.0", None),
    ("port", fields.port, "", None),
    # integer: trimmed decimal text.
    ("integer", fields.integer, " 42 ", 42),
    ("integer", fields.integer, "4.2", None),
    ("integer", fields.integer, "x", None),
    # sha256: 64 hex digits, lower-cased.
    ("sha256", fields.sha256, f" {DIGEST} ", DIGEST.lower()),
    ("sha256", fields.sha256, DIGEST[:-1], None),
    # verdict: the action word in any case.
    ("verdict", fields.verdict, "DENY", "denied"),
    ("verdict", fields.verdict, "Accept", "allowed"),
    ("verdict", fields.verdict, "alert", None),
    ("null_if_blank", fields.null_if_blank, "", None),
    ("null_if_blank", fields.null_if_blank, " x", " x"),
    # ip_address: IPv4 or IPv6 as written; anything else is null.
    ("ip_address", fields.ip_address, "10.1.2.3", "10.1.2.3"),
    ("ip_address", fields.ip_address, "2001:DB8::1", "2001:DB8::1"),
    ("ip_address", fields.ip_address, "::ffff:192.0.2.1", "::ffff:192.0.2.1"),
    ("ip_address", fields.ip_address, "256.1.1.1", None),
    ("ip_address", fields.ip_address, "01.2.3.4", None),
    ("ip_address", fields.ip_address, "fw.example.org", None),
    ("ip_address", fields.ip_address, "dmz:OCSP_Server", None),
    ("ip_address", fields.ip_address, "1:2:3:4:5:6:7:8:9", None),
    ("ip_address", fields.ip_address, "N/A", None),
    # user_parts: DOMAIN\user is the user; the domain is the second part.
    ("user_parts", lambda e: fields.user_parts(e)[0], "CORP\\alice", "alice"),
    ("user_parts", lambda e: fields.user_parts(e)[1], "CORP\\alice", "CORP"),
    ("user_parts", lambda e: fields.user_parts(e)[0], "${jndi:ldap://x/a}", "${jndi:ldap://x/a}"),
    ("user_parts", lambda e: fields.user_parts(e)[1], "alice", None),
]


def apply(helper: Helper, value: str | None) -> Any:
    frame = pl.DataFrame({"v": [value]}, schema={"v": pl.String})
    return frame.select(helper(pl.col("v"))).item()


@pytest.mark.parametrize(
    ("helper", "value", "expected"),
    [case[1:] for case in CASES],
    ids=[f"{name}({value!r})" for name, _, value, _ in CASES],
)
def test_each_field_helper_gives_the_one_answer(
    helper: Helper, value: str | None, expected: Any
) -> None:
    assert apply(helper, value) == expected


PARSER_MODULES = [
    cef,
    cisco_asa,
    ecs_json,
    fortigate,
    iptables,
    panos,
    panos_records,
    squid,
    webaccess,
    zeek,
]
HELPERS = [
    "transport",
    "domain",
    "port",
    "integer",
    "sha256",
    "verdict",
    "null_if_blank",
    "ip_address",
    "user_parts",
    "localise",
]


@pytest.mark.parametrize("module", PARSER_MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_parsers_normalise_fields_only_with_the_shared_helpers(module: ModuleType) -> None:
    for name in HELPERS:
        if hasattr(module, name):
            assert getattr(module, name) is getattr(fields, name), f"{module.__name__}.{name}"


def test_one_iana_table_maps_numbers_the_devices_log() -> None:
    assert fields.IANA_PROTOCOLS["132"] == "sctp"
    assert all(key.isdigit() for key in fields.IANA_PROTOCOLS)


def zeek_tsv(log: str, fields_: list[str], types: list[str], values: list[str]) -> str:
    return "\n".join(
        [
            f"#path\t{log}",
            "#fields\t" + "\t".join(fields_),
            "#types\t" + "\t".join(types),
            "\t".join(values),
        ]
    )


def panos_line() -> str:
    values = {**test_panos.TRAFFIC_FIELDS, 24: " 80", 29: "132"}
    return test_panos.record(values)


ECS = json.dumps(
    {
        "@timestamp": "2024-05-01T10:00:00Z",
        "source": {"ip": "10.0.0.1", "port": " 80"},
        "destination": {"ip": "10.0.0.2", "port": "53"},
        "network": {"transport": "132"},
        "dns": {"question": {"name": "Example.COM.."}},
    }
)
ZEEK_DNS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "query"]
ZEEK_TYPES = ["time", "string", "addr", "port", "addr", "port", "enum", "string"]
ZEEK_VALUES = ["1700000000.0", "C1", "10.0.0.1", " 80", "10.0.0.2", "53", "132", "Example.COM.."]
ZEEK_JSON = json.dumps(
    {
        "_path": "dns",
        **dict(zip(ZEEK_DNS, ZEEK_VALUES, strict=True)),
        "ts": 1700000000.0,
        "id.orig_p": " 80",
    }
)

# (format, line, expected fields): each passes one awkward value through the parser.
END_TO_END: list[tuple[str, str, dict[str, Any]]] = [
    (
        "fortigate",
        test_fortigate.LOCAL_DENY.replace("proto=17", "proto=132"),
        {"network.transport": "sctp", "source.port": 40000},
    ),
    (
        "fortigate",
        test_fortigate.DNS.replace('qname="WWW.Example.ORG."', 'qname="Example.COM.."'),
        {"dns.question.name": "example.com"},
    ),
    ("panos", panos_line(), {"network.transport": "sctp", "source.port": 80}),
    (
        "cef",
        test_cef.PROXY.replace("proto=TCP", "proto=132").replace("dpt=443", "dhost=Example.COM.."),
        {"network.transport": "sctp", "url.domain": "bad.example.com"},
    ),
    (
        "iptables",
        test_iptables.DROP_SSH.replace("PROTO=TCP", "PROTO=132"),
        {"network.transport": "sctp", "source.port": 51515},
    ),
    (
        "cisco-asa",
        test_cisco_asa.BUILT_OUT,
        {"network.transport": "tcp", "source.port": 1064},
    ),
    (
        "squid",
        test_squid.MISS.replace("http://www.Google.com/", "http://Example.COM..:8080/"),
        {"url.domain": "example.com", "destination.port": 8080},
    ),
    (
        "nginx",
        test_webaccess.COMBINED.replace("GET /apache_pb.gif?a=1", "GET http://Example.COM..:81/x"),
        {"url.domain": "example.com", "destination.port": 81},
    ),
    (
        "ecs",
        ECS,
        {"network.transport": "sctp", "source.port": 80, "dns.question.name": "example.com"},
    ),
    (
        "zeek",
        zeek_tsv("dns", ZEEK_DNS, ZEEK_TYPES, ZEEK_VALUES),
        {"network.transport": "sctp", "source.port": 80, "dns.question.name": "example.com"},
    ),
    (
        "zeek-json",
        ZEEK_JSON,
        {"network.transport": "sctp", "source.port": 80, "dns.question.name": "example.com"},
    ),
]


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    END_TO_END,
    ids=[f"{fmt}-{i}" for i, (fmt, _, _) in enumerate(END_TO_END)],
)
def test_a_field_passes_through_each_parser_normalised_alike(
    fmt: str, text: str, expected: dict[str, Any]
) -> None:
    lines = text.split("\n")
    parser = get_parser(fmt)
    result = parser.parse(pl.Series(lines, dtype=pl.String), ParseContext("dns.log", 2025))
    assert result.rejects.height == 0, result.rejects.to_dicts()
    assert result.events.height == 1
    got = result.events.row(0, named=True)
    assert {key: got[key] for key in expected} == expected


def test_with_numbers_reads_as_integer_and_port_do_on_every_row() -> None:
    text = [" 80", "443", "x", "", None, "70000", "8\t", "-1"]
    frame = pl.DataFrame({"t": text}, schema={"t": pl.String})
    got = with_numbers(frame, {"p": (pl.col("t"), pl.UInt16()), "n": (pl.col("t"), pl.Int64())})
    want = frame.select(p=fields.port(pl.col("t")), n=fields.integer(pl.col("t"), pl.Int64()))
    assert got.select("p", "n").equals(want)
    assert got.get_column("p").to_list() == [80, 443, None, None, None, None, 8, None]
    assert got.get_column("p").dtype == pl.Int32
    # A null text (a field the row does not have) stays null, whatever the row holds.
    only = with_numbers(frame, {"n": (pl.when(pl.col("t") != "443").then(pl.col("t")), pl.Int64())})
    assert only.get_column("n").to_list() == [80, None, None, None, None, 70000, 8, -1]
