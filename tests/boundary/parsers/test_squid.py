"""Squid native access.log parser: fields, CONNECT, verdicts, rejects, detection."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.boundary.parsers import ParseContext, detect_format, get_parser
from bastion.core.events import EVENT_SCHEMA, LINE_COLUMN

SQUID = get_parser("squid").parse

MISS = (
    "1286536309.450    102 192.168.0.68 TCP_MISS/200 507 GET "
    "http://www.Google.com/search?q=x - DIRECT/173.194.35.81 text/html"
)
DENIED_CONNECT = (
    "1286536310.001      0 192.168.0.69 TCP_DENIED/403 3821 CONNECT evil.example.com:443 "
    "- HIER_NONE/- text/html"
)
ERROR = (
    "1286536311.000 0 192.168.0.70 NONE/400 3821 NONE error:invalid-request - HIER_NONE/- text/html"
)


def parse(lines: list[str]):
    return SQUID(pl.Series(lines, dtype=pl.String), ParseContext())


def test_forwarded_request_maps_every_field() -> None:
    result = parse([MISS])
    assert result.rejects.height == 0
    assert result.events.columns == [*EVENT_SCHEMA, LINE_COLUMN]
    row = result.events.row(0, named=True)
    assert row["@timestamp"] == datetime(2010, 10, 8, 11, 11, 49, 450000, tzinfo=UTC)
    assert (row["event.dataset"], row["event.action"], row["event.type"]) == (
        "squid.access",
        "tcp_miss",
        "allowed",
    )
    assert (row["observer.vendor"], row["observer.product"]) == ("squid", "squid")
    assert (row["source.ip"], row["destination.ip"]) == ("192.168.0.68", "173.194.35.81")
    assert (row["destination.bytes"], row["network.bytes"]) == (507, 507)
    assert row["url.full"] == "http://www.Google.com/search?q=x"
    assert (row["url.domain"], row["url.path"]) == ("www.google.com", "/search")
    assert (row["http.request.method"], row["http.response.status_code"]) == ("GET", 200)
    assert row["event.original"] == MISS


def test_denied_connect_gives_domain_and_port_but_no_url() -> None:
    row = parse([DENIED_CONNECT]).events.row(0, named=True)
    assert (row["event.type"], row["event.action"]) == ("denied", "tcp_denied")
    assert (row["url.domain"], row["destination.port"]) == ("evil.example.com", 443)
    assert row["url.full"] is None
    assert row["destination.ip"] is None  # the peer is '-'
    assert row["http.request.method"] == "CONNECT"


def test_error_before_any_decision_has_no_verdict() -> None:
    row = parse([ERROR]).events.row(0, named=True)
    assert row["event.type"] is None
    assert row["http.request.method"] is None
    assert row["http.response.status_code"] == 400


def test_extra_trailing_fields_are_tolerated_and_peer_names_are_not_ips() -> None:
    line = "1286536309.450 1 10.0.0.1 TCP_HIT/200 10 GET https://a.example:8443/x - DIRECT/proxy.local text/html extra"
    row = parse([line]).events.row(0, named=True)
    assert (row["url.domain"], row["destination.port"]) == ("a.example", 8443)
    assert row["destination.ip"] is None


def test_bad_lines_are_rejected_with_reasons() -> None:
    lines = [
        "1286536309.450 0 192.168.0.68 TCP_MISS/200",
        "yesterday 0 192.168.0.68 TCP_MISS/200 507 GET http://a.b/ - DIRECT/1.2.3.4 text/html",
        "1286536309.450 0 192.168.0.68 TCP_MISS 507 GET http://a.b/ - DIRECT/1.2.3.4 text/html",
        "1286536309.450 0 192.168.0.68 TCP_MISS/200 many GET http://a.b/ - DIRECT/1.2.3.4 text/html",
        "   ",
    ]
    result = parse(lines)
    assert result.events.height == 0
    assert result.rejects.to_dicts() == [
        {LINE_COLUMN: 0, "reason": "squid: expected 10 space-separated fields, found 4"},
        {LINE_COLUMN: 1, "reason": "squid: field 'time' is not epoch seconds"},
        {LINE_COLUMN: 2, "reason": "squid: field 'code/status' is not like TCP_MISS/200"},
        {LINE_COLUMN: 3, "reason": "squid: field 'bytes' is not a count"},
    ]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="0123456789. /TCP_MIS-GEhtp:", max_size=60), max_size=10))
def test_every_line_is_an_event_or_a_reject(lines: list[str]) -> None:
    result = parse(lines)
    seen = sorted([*result.events.get_column(LINE_COLUMN), *result.rejects.get_column(LINE_COLUMN)])
    assert seen == [i for i, line in enumerate(lines) if line.strip()]


def test_squid_sample_is_detected_as_exactly_squid() -> None:
    assert detect_format([MISS, DENIED_CONNECT, ERROR]).name == "squid"
