"""ECS JSON parser: nested and flat keys, normalisation, rejects, detection."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.boundary.parsers import golden_files

from bastion.boundary.lines import split_lines
from bastion.boundary.parsers import ParseContext, ParseResult, detect_format, ecs_json, get_parser
from bastion.core.events import EVENT_SCHEMA, LINE_COLUMN

ECS = get_parser("ecs").parse

NESTED = json.dumps(
    {
        "@timestamp": "2024-05-01T10:00:00.123Z",
        "ecs": {"version": "8.11.0"},
        "event": {"dataset": "proxy.web", "action": "Block", "type": ["connection", "denied"]},
        "observer": {"vendor": "Acme", "product": "Gateway", "name": "gw1"},
        "source": {"ip": "10.0.0.1", "port": 5555, "bytes": 10},
        "destination": {"ip": "93.184.216.34", "port": 443, "bytes": 20},
        "network": {"transport": "TCP", "protocol": "HTTP"},
        "url": {"full": "https://Evil.Example.com./a/b?x=1"},
        "http": {"request": {"method": "get"}, "response": {"status_code": 403}},
        "user_agent": {"original": "Mozilla/5.0"},
        "rule": {"name": "block-bad"},
    }
)
FLAT = json.dumps(
    {
        "@timestamp": "2024-05-01T11:00:00+01:00",
        "event.type": "allowed",
        "client.ip": "10.0.0.2",
        "dns.question.name": "WWW.Example.ORG.",
        "dns.question.type": "aaaa",
        "tls.server.name": "Sni.Example.",
        "tls.client.ja3": "ABCDEF",
        "file.hash.sha256": "A" * 64,
    }
)


def parse(lines: list[str]):
    return ECS(pl.Series(lines, dtype=pl.String), ParseContext())


def test_nested_event_maps_and_normalises_every_field() -> None:
    result = parse([NESTED])
    assert result.rejects.height == 0
    assert result.events.columns == [*EVENT_SCHEMA, LINE_COLUMN]
    row = result.events.row(0, named=True)
    assert row["@timestamp"] == datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)
    assert (row["event.dataset"], row["event.action"], row["event.type"]) == (
        "proxy.web",
        "block",
        "denied",
    )
    assert (row["observer.vendor"], row["observer.product"], row["observer.name"]) == (
        "Acme",
        "Gateway",
        "gw1",
    )
    assert (row["source.ip"], row["source.port"], row["source.bytes"]) == ("10.0.0.1", 5555, 10)
    assert (row["destination.port"], row["destination.bytes"], row["network.bytes"]) == (
        443,
        20,
        30,
    )
    assert (row["network.transport"], row["network.protocol"]) == ("tcp", "http")
    assert row["url.full"] == "https://Evil.Example.com./a/b?x=1"
    assert (row["url.domain"], row["url.path"]) == ("evil.example.com", "/a/b")
    assert (row["http.request.method"], row["http.response.status_code"]) == ("GET", 403)
    assert (row["user_agent.original"], row["rule.name"]) == ("Mozilla/5.0", "block-bad")
    assert row["event.original"] == NESTED


def test_flat_dotted_keys_and_ecs_fallbacks() -> None:
    row = parse([FLAT]).events.row(0, named=True)
    assert row["@timestamp"] == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert row["event.dataset"] == "ecs"  # none given
    assert row["event.type"] == "allowed"  # a bare string instead of an array still reads
    assert row["source.ip"] == "10.0.0.2"  # from client.ip
    assert (row["dns.question.name"], row["dns.question.type"]) == ("www.example.org", "AAAA")
    assert (row["tls.server.name"], row["tls.client.ja3"]) == ("sni.example", "abcdef")
    assert row["file.hash.sha256"] == "a" * 64


def test_flat_key_wins_over_nested_key() -> None:
    line = '{"@timestamp":"2024-05-01T10:00:00Z","source.ip":"1.1.1.1","source":{"ip":"2.2.2.2"}}'
    assert parse([line]).events.get_column("source.ip").to_list() == ["1.1.1.1"]


def test_nested_object_after_spaced_colon_is_read() -> None:
    line = '{"@timestamp": "2024-05-01T10:00:00Z", "source" : {"ip": "1.1.1.1"}}'
    assert parse([line]).events.get_column("source.ip").to_list() == ["1.1.1.1"]


def test_epoch_millisecond_timestamp() -> None:
    row = parse(['{"@timestamp": 1714557600000, "source": {"ip": "9.9.9.9"}}']).events.row(
        0, named=True
    )
    assert row["@timestamp"] == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_bad_lines_become_rejects_with_reasons_and_do_not_sink_the_batch() -> None:
    lines = [
        NESTED,
        '{"@timestamp":"2024-05-01T10:00:00Z","source":"not-an-object"}',
        '{"@timestamp": "2024-05-01T10:00:00Z", oops}',
        "hello",
        "",
        '{"source.ip":"1.1.1.1"}',
        '{"@timestamp":"yesterday"}',
        FLAT,
    ]
    result = parse(lines)
    assert result.events.get_column(LINE_COLUMN).to_list() == [0, 7]
    reasons = dict(result.rejects.iter_rows())
    assert reasons[1] == "ecs: field 'source' holds text, not an object"
    assert (
        reasons[2]
        == "ecs: JSON syntax error at byte 40: expecting property name enclosed in double quotes"
    )
    assert reasons[3] == "ecs: not a JSON object"
    assert reasons[5] == "ecs: field '@timestamp' is missing"
    assert reasons[6].startswith("ecs: field '@timestamp' is not an ISO 8601 time")
    assert 4 not in reasons


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet='{}[]":,.@ab1 ', max_size=25),
            st.dictionaries(
                st.sampled_from(["@timestamp", "source.ip", "source", "event.type", "x"]),
                st.one_of(st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2)),
            ).map(json.dumps),
        ),
        max_size=10,
    )
)
def test_every_line_is_an_event_or_a_reject(lines: list[str]) -> None:
    result = parse(lines)
    seen = sorted([*result.events.get_column(LINE_COLUMN), *result.rejects.get_column(LINE_COLUMN)])
    assert seen == [i for i, line in enumerate(lines) if line.strip()]


def test_ecs_sample_is_detected_as_exactly_ecs() -> None:
    assert detect_format([NESTED, FLAT]).name == "ecs"


@pytest.mark.parametrize("log", golden_files.cases("ecs"), ids=lambda p: p.stem)
def test_golden_records_give_every_mapped_field(log: Path) -> None:
    golden_files.check("ecs", log, ParseContext())


def test_nat_user_threat_and_application_fields_pass_straight_through() -> None:
    line = json.dumps(
        {
            "@timestamp": "2025-11-25T13:02:00Z",
            "event": {"category": ["Intrusion_Detection", "network"], "outcome": "Failure"},
            "source": {"ip": "10.0.0.5", "nat": {"ip": "203.0.113.5", "port": 61000}},
            "destination": {"nat": {"ip": "10.20.0.10", "port": "8443"}, "user": {"name": "b"}},
            "user": {"name": "a", "domain": "CORP"},
            "threat": {"name": "T", "id": "1", "category": "c", "severity": "HIGH"},
            "url": {"category": "News"},
            "network": {"application": "YouTube", "application_risk": "4"},
        }
    )
    got = parse([line]).events.row(0, named=True)
    assert (got["event.category"], got["event.outcome"]) == ("intrusion_detection", "failure")
    assert (got["source.nat.ip"], got["source.nat.port"]) == ("203.0.113.5", 61000)
    assert (got["destination.nat.ip"], got["destination.nat.port"]) == ("10.20.0.10", 8443)
    assert (got["user.name"], got["user.domain"], got["destination.user.name"]) == (
        "a",
        "CORP",
        "b",
    )
    assert (got["threat.name"], got["threat.id"], got["threat.category"]) == ("T", "1", "c")
    assert got["threat.severity"] == "high"
    assert (got["url.category"], got["network.application"]) == ("News", "youtube")
    assert got["network.application_risk"] == "4"


def test_a_single_event_category_and_the_chunk_reader_agree() -> None:
    lines = [
        '{"@timestamp":"2025-11-25T13:00:00Z","event":{"category":"authentication"},'
        '"source":{"ip":"10.0.0.1"}}',
        '{"@timestamp":"2025-11-25T13:00:01Z","event":{"category":["network"]},'
        '"source":{"ip":"10.0.0.2"}}',
    ]
    parsed = parse(lines).events.get_column("event.category").to_list()
    chunk = split_lines("".join(f"{line}\n" for line in lines).encode())
    read = get_parser("ecs").read(chunk, ParseContext()).events
    assert parsed == read.get_column("event.category").to_list() == ["authentication", "network"]


def test_a_name_in_an_ecs_address_field_is_not_an_address() -> None:
    line = '{"@timestamp":"2025-11-25T13:00:00Z","source":{"ip":"gw.example"},"server":{"ip":"x"}}'
    got = parse([line]).events.row(0, named=True)
    assert (got["source.ip"], got["destination.ip"]) == (None, None)


def test_the_chunk_reader_reads_single_values_where_ecs_has_arrays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = [
        '{"@timestamp":"2025-11-25T13:00:00.100Z","event":{"category":"authentication",'
        '"type":"denied"},"source":{"ip":"10.0.0.1"}}',
        '{"@timestamp":"2025-11-25T13:00:01.100Z","event":{"category":"network"},'
        '"source":{"ip":"10.0.0.2"}}',
        '{"@timestamp":"2025-11-25T13:00:02.100Z","source":{"ip":"10.0.0.3"}}',
    ]
    chunk = split_lines("".join(f"{line}\n" for line in lines).encode())

    def line_by_line(lines: pl.Series, ctx: ParseContext) -> ParseResult:
        raise AssertionError("the chunk fell back on the line parser")

    monkeypatch.setattr(ecs_json, "parse_ecs", line_by_line)
    read = ecs_json.read_ecs(chunk, ParseContext()).events
    monkeypatch.undo()
    assert read.equals(parse(lines).events)
    assert read.get_column("event.category").to_list() == ["authentication", "network", None]
    assert read.get_column("event.type").to_list() == ["denied", None, None]
