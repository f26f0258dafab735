"""FortiGate key=value parser: traffic, web filter and DNS logs, key order, rejects, detection."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.boundary.parsers import PARSERS, ParseContext, ParseResult, detect_format, get_parser
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
        1: "fortigate: type=event subtype=system is not supported "
        "(read: traffic, utm webfilter, utm dns)",
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
