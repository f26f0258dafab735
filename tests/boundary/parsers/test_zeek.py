"""Zeek TSV and JSON parsers: real WRCCDC logs, inline conn/http cases, chunking, rejects."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.boundary.parsers import ParseContext, detect_format, get_parser
from bastion.core.events import EVENT_SCHEMA, LINE_COLUMN

ZEEK = get_parser("zeek").parse
ZEEK_JSON = get_parser("zeek-json").parse

CONN_LOG = """#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tconn
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring
1700000000.250000\tC1\t10.1.2.3\t50000\t93.184.216.34\t443\ttcp\tSSL\t1.5\t1200\t34000\tSF
1700000001.000000\tC2\t10.1.2.3\t50001\t8.8.8.8\t53\tudp\t-\t-\t-\t80\tSF
#close\t2023-11-14-22-13-21""".splitlines()

HTTP_LOG = """#separator \\x09
#path\thttp
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost\turi\tstatus_code\tuser_agent
1700000000.000000\tC3\t10.1.2.3\t50002\t203.0.113.7\t80\t1\tget\tWWW.Example.COM:8080\t/a/b?c=${jndi:ldap://x/y}\t403\tcurl/8.0
1700000000.500000\tC4\t10.1.2.3\t50003\t2001:db8::7\t80\t1\tPOST\t-\t/upload\t-\t(empty)""".splitlines()


def read_log(shared_data: Path, name: str) -> list[str]:
    with gzip.open(shared_data / "zeek" / f"{name}.log.gz", "rt", encoding="utf-8") as handle:
        return handle.read().splitlines()


def parse(lines: list[str], fn=ZEEK, ctx: ParseContext | None = None):
    return fn(pl.Series(lines, dtype=pl.String), ctx or ParseContext())


def event_row(result, line: int) -> dict[str, object]:
    rows = result.events.filter(pl.col(LINE_COLUMN) == line).to_dicts()
    assert len(rows) == 1
    return rows[0]


@pytest.mark.parametrize("name", ["dns", "ssl", "x509", "notice", "weird"])
def test_real_zeek_logs_parse_every_data_line_without_rejects(shared_data: Path, name: str) -> None:
    lines = read_log(shared_data, name)
    result = parse(lines)
    data_lines = [i for i, line in enumerate(lines) if not line.startswith("#")]
    assert result.rejects.height == 0
    assert result.events.get_column(LINE_COLUMN).to_list() == data_lines
    assert result.events.columns == [*EVENT_SCHEMA, LINE_COLUMN]
    assert result.events.get_column("event.dataset").unique().to_list() == [f"zeek.{name}"]
    assert result.events.get_column("@timestamp").null_count() == 0


def test_real_dns_line_maps_every_field(shared_data: Path) -> None:
    lines = read_log(shared_data, "dns")
    row = event_row(parse(lines), 8)
    assert row["@timestamp"] == datetime(2018, 3, 24, 17, 15, 20, 865716, tzinfo=UTC)
    assert row["event.original"] == lines[8]
    assert (row["source.ip"], row["source.port"]) == ("10.47.1.100", 41772)
    assert (row["destination.ip"], row["destination.port"]) == ("10.0.0.100", 53)
    assert (row["network.transport"], row["network.protocol"]) == ("udp", "dns")
    assert row["dns.question.name"] == "ise.wrccdc.org"
    assert (row["dns.question.type"], row["dns.response_code"]) == ("A", "NOERROR")
    assert (row["observer.vendor"], row["observer.product"]) == ("zeek", "zeek")
    assert row["event.type"] is None


def test_real_dns_unset_rcode_is_null_not_dash(shared_data: Path) -> None:
    lines = read_log(shared_data, "dns")
    last = len(lines) - 2  # the line before #close has rcode '-'
    assert "\t-\t-\tF\tF\tT\tF" in lines[last]
    row = event_row(parse(lines), last)
    assert row["dns.response_code"] is None
    assert row["dns.question.name"] == "talk.google.com"


def test_real_ssl_server_name_becomes_tls_server_name(shared_data: Path) -> None:
    lines = read_log(shared_data, "ssl")
    result = parse(lines)
    named = result.events.filter(pl.col("tls.server.name").is_not_null())
    assert named.height > 1000
    first = named.row(0, named=True)
    raw = first["event.original"].split("\t")
    assert first["tls.server.name"] == raw[9].lower() == "ise.wrccdc.org"
    assert (first["destination.ip"], first["destination.port"]) == (raw[4], 443)
    assert first["network.protocol"] == "ssl"


def test_real_x509_takes_first_san_then_subject_cn_and_fingerprint(shared_data: Path) -> None:
    lines = read_log(shared_data, "x509")
    result = parse(lines)
    first, snozberry, smarties = (event_row(result, i) for i in (8, 10, 11))
    assert first["tls.server.name"] == "localhost.localdomain"
    assert first["file.hash.sha256"] == lines[8].split("\t")[1]
    assert snozberry["tls.server.name"] == "snozberry"  # first of two SAN names
    assert smarties["tls.server.name"] == "smarties.factory.oompa.loompa"  # no SAN: the CN
    assert first["@timestamp"] == datetime(2018, 3, 24, 17, 15, 20, 624556, tzinfo=UTC)


def test_real_notice_and_weird_name_the_rule(shared_data: Path) -> None:
    notice = event_row(parse(read_log(shared_data, "notice")), 8)
    assert notice["rule.name"] == "SSL::Invalid_Server_Cert"
    assert (notice["source.ip"], notice["destination.port"]) == ("10.164.94.120", 443)
    weird = event_row(parse(read_log(shared_data, "weird")), 8)
    assert weird["rule.name"] == "TCP_ack_underflow_or_misorder"
    assert weird["observer.name"] == "zeek"


def test_header_is_kept_across_chunks_of_one_source(shared_data: Path) -> None:
    lines = read_log(shared_data, "dns")[:5000]
    whole = parse(lines)
    ctx = ParseContext()
    parts = [parse(lines[i : i + 1700], ctx=ctx) for i in range(0, len(lines), 1700)]
    assert sum(p.rejects.height for p in parts) == 0
    chunked = pl.concat([p.events.drop(LINE_COLUMN) for p in parts])
    assert chunked.equals(whole.events.drop(LINE_COLUMN))
    assert parts[1].events.get_column(LINE_COLUMN)[0] == 0  # _line is per chunk


def test_conn_maps_bytes_service_and_transport() -> None:
    result = parse(CONN_LOG)
    assert result.rejects.height == 0
    first, second = result.events.to_dicts()
    assert (first["source.bytes"], first["destination.bytes"], first["network.bytes"]) == (
        1200,
        34000,
        35200,
    )
    assert (first["network.transport"], first["network.protocol"]) == ("tcp", "ssl")
    assert first["event.dataset"] == "zeek.conn"
    assert first["@timestamp"] == datetime.fromtimestamp(1700000000.25, UTC)
    assert (second["source.bytes"], second["network.bytes"]) == (None, 80)
    assert second["network.protocol"] is None


def test_http_builds_url_and_keeps_attack_text() -> None:
    result = parse(HTTP_LOG)
    assert result.rejects.height == 0
    first, second = result.events.to_dicts()
    assert first["url.full"] == "http://WWW.Example.COM:8080/a/b?c=${jndi:ldap://x/y}"
    assert (first["url.domain"], first["url.path"]) == ("www.example.com", "/a/b")
    assert (first["http.request.method"], first["http.response.status_code"]) == ("GET", 403)
    assert first["user_agent.original"] == "curl/8.0"
    assert first["network.protocol"] == "http"
    # No Host header: the URL uses the responder's (bracketed IPv6) address.
    assert second["url.full"] == "http://[2001:db8::7]/upload"
    assert second["url.domain"] is None
    assert second["user_agent.original"] is None  # (empty) is no user agent


def test_bad_lines_are_rejected_with_field_and_log_type() -> None:
    header = HTTP_LOG[:3]
    lines = [
        *header,
        "abc\tC5\t10.1.2.3\t1\t1.1.1.1\t80\t1\tGET\th\t/\t200\tua",
        "1700000000\tC6\t10.1.2.3\t99999\t1.1.1.1\t80\t1\tGET\th\t/\t200\tua",
        "1700000000\tC7\t10.1.2.3\t1\t1.1.1.1\t80\t1\tGET\th\t/\tOK\tua",
        "1700000000\tC8\t10.1.2.3",
        "",
        "   ",
    ]
    result = parse(lines)
    assert result.events.height == 0
    assert result.rejects.to_dicts() == [
        {LINE_COLUMN: 3, "reason": "zeek http: field 'ts' is not a number"},
        {LINE_COLUMN: 4, "reason": "zeek http: field 'id.orig_p' is not a port number"},
        {LINE_COLUMN: 5, "reason": "zeek http: field 'status_code' is not a count"},
        {LINE_COLUMN: 6, "reason": "zeek http: expected 12 fields, found 3"},
    ]


def test_data_before_any_header_is_rejected_not_guessed() -> None:
    result = parse(["1700000000.0\tC1\t10.0.0.1"])
    assert result.events.height == 0
    assert result.rejects.get_column("reason")[0].startswith("zeek: data line before any '#fields'")


def test_log_without_ts_column_is_rejected_with_reason() -> None:
    result = parse(["#separator \\x09", "#path\tfiles", "#fields\tfuid\tmd5", "F1\tabc"])
    assert result.events.height == 0
    assert result.rejects.to_dicts() == [
        {
            LINE_COLUMN: 3,
            "reason": "zeek files: the '#fields' header has no 'ts' field, so no line has a time",
        }
    ]


def test_unlisted_log_type_still_yields_common_fields() -> None:
    lines = [
        "#separator \\x09",
        "#path\tsmtp",
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tmailfrom",
        "1700000000.5\tC9\t10.0.0.1\t40000\t192.0.2.25\t25\ta@b.example",
    ]
    row = parse(lines).events.row(0, named=True)
    assert row["event.dataset"] == "zeek.smtp"
    assert (row["source.ip"], row["destination.port"]) == ("10.0.0.1", 25)


def test_concatenated_logs_switch_mapping_at_each_header() -> None:
    result = parse([*CONN_LOG, *HTTP_LOG])
    assert result.rejects.height == 0
    datasets = result.events.get_column("event.dataset").to_list()
    assert datasets == ["zeek.conn", "zeek.conn", "zeek.http", "zeek.http"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="ab1.-\t #(empty)", max_size=30), max_size=12))
def test_every_line_is_an_event_a_reject_or_a_header(body: list[str]) -> None:
    lines = [*CONN_LOG[:7], *(line.replace("\n", "") for line in body)]
    result = parse(lines)
    seen = sorted([*result.events.get_column(LINE_COLUMN), *result.rejects.get_column(LINE_COLUMN)])
    expected = [i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")]
    assert seen == expected


# ------------------------------------------------------------------------- JSON


def as_json(lines: list[str]) -> list[str]:
    """Turn TSV log lines into Zeek's JSON form (unset fields left out, vectors as lists)."""
    fields = next(line for line in lines if line.startswith("#fields")).split("\t")[1:]
    out = []
    for line in lines:
        if line.startswith("#"):
            continue
        record: dict[str, object] = {}
        for name, value in zip(fields, line.split("\t"), strict=True):
            if value == "-":
                continue
            if name in {"ts", "id.orig_p", "id.resp_p"}:
                record[name] = float(value) if name == "ts" else int(value)
            elif name == "san.dns":
                record[name] = value.split(",")
            else:
                record[name] = value
        out.append(json.dumps(record))
    return out


@pytest.mark.parametrize("name", ["dns", "ssl", "x509", "notice", "weird"])
def test_json_lines_map_exactly_like_tsv(shared_data: Path, name: str) -> None:
    lines = read_log(shared_data, name)[:400]
    tsv = parse(lines).events.drop("event.original", LINE_COLUMN)
    result = parse(as_json(lines), ZEEK_JSON)
    assert result.rejects.height == 0
    assert result.events.drop("event.original", LINE_COLUMN).equals(tsv)


def test_json_path_field_and_iso_timestamp() -> None:
    line = json.dumps(
        {
            "_path": "http",
            "ts": "2024-01-02T03:04:05.000001Z",
            "id.orig_h": "10.0.0.1",
            "id.orig_p": 5,
            "id.resp_h": "1.2.3.4",
            "id.resp_p": 80,
            "method": "get",
            "host": "example.com",
            "uri": "/x",
        }
    )
    row = parse([line], ZEEK_JSON).events.row(0, named=True)
    assert row["event.dataset"] == "zeek.http"
    assert row["@timestamp"] == datetime(2024, 1, 2, 3, 4, 5, 1, tzinfo=UTC)
    assert (row["url.full"], row["http.request.method"]) == ("http://example.com/x", "GET")


def test_json_ssl_fingerprints_are_kept() -> None:
    line = '{"ts":1.5,"uid":"C","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"1.1.1.1","id.resp_p":443,"server_name":"A.Example.","ja3":"ABCDEF0123","ja4":"t13d1516h2_8daaf6152771_02713d6af862","established":true}'
    row = parse([line], ZEEK_JSON).events.row(0, named=True)
    assert row["event.dataset"] == "zeek.ssl"
    assert row["tls.server.name"] == "a.example"
    assert row["tls.client.ja3"] == "abcdef0123"
    assert row["tls.client.ja4"] == "t13d1516h2_8daaf6152771_02713d6af862"


def test_json_bad_lines_are_rejected_and_good_ones_survive() -> None:
    good = '{"ts":1.5,"uid":"C","id.orig_h":"10.0.0.1","query":"x.org","qtype_name":"A"}'
    lines = [good, '{"ts": 1.5, broken}', '{"uid":"C"}', '{"ts":"soon"}', "[1, 2]", good, "", "{"]
    result = parse(lines, ZEEK_JSON)
    assert result.events.get_column(LINE_COLUMN).to_list() == [0, 5]
    reasons = dict(result.rejects.iter_rows())
    assert reasons[1] == (
        "zeek-json: JSON syntax error at byte 13: expecting property name enclosed in double quotes"
    )
    assert reasons[2] == "zeek: field 'ts' is missing"
    assert reasons[3] == "zeek: field 'ts' is not a number"
    assert reasons[4] == "zeek-json: not a JSON object"
    assert reasons[7] == "zeek-json: JSON ends early at byte 1"
    assert 6 not in reasons  # a blank line is neither event nor reject


def test_zeek_samples_are_detected_as_exactly_their_format(shared_data: Path) -> None:
    assert detect_format(read_log(shared_data, "dns")[:20]).name == "zeek"
    assert detect_format(as_json(read_log(shared_data, "ssl")[:30])).name == "zeek-json"
    assert detect_format(as_json(read_log(shared_data, "x509")[:30])).name == "zeek-json"
