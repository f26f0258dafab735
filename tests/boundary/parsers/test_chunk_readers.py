"""Formats that read a chunk's bytes directly must agree with their line-by-line parser.

``Parser.read`` takes the faster path (the CSV reader over the chunk's bytes) only
when the bytes prove it safe; whatever the input, events and rejects are the same
as ``Parser.parse`` gives for the same lines.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from tests.boundary.parsers.test_panos import (
    TRAFFIC,
    TRAFFIC_FIELDS,
    URL,
    URL_FIELDS,
    VIRUS,
    record,
)

from bastion.boundary.lines import split_lines
from bastion.boundary.parsers import ParseContext, get_parser
from bastion.boundary.parsers import ecs_json as ecs_module
from bastion.boundary.parsers import panos as panos_module
from bastion.boundary.parsers import zeek as zeek_module
from bastion.boundary.parsers.fields import iso_timestamp, iso_timestamps
from bastion.core.events import LINE_COLUMN

ZEEK_HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\torig_bytes\tresp_bytes\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tcount\tcount\n"
)
CONN = "1748822400.18\tC1\t10.0.0.1\t5000\t192.0.2.7\t443\ttcp\tssl\t100\t2000\n"


def both(fmt: str, data: bytes, ctx_year: int = 2025) -> None:
    """Assert the chunk reader and the line parser agree on ``data`` (in any order of lines)."""
    parser = get_parser(fmt)
    lines = split_lines(data)
    fast = parser.read(lines, ParseContext(source="s", default_year=ctx_year))
    slow = parser.parse(lines.text, ParseContext(source="s", default_year=ctx_year))
    assert_frame_equal(fast.events.sort(LINE_COLUMN), slow.events.sort(LINE_COLUMN))
    assert_frame_equal(fast.rejects.sort(LINE_COLUMN), slow.rejects.sort(LINE_COLUMN))


def real_zeek(shared_data: Path, name: str) -> bytes:
    return gzip.decompress((shared_data / "zeek" / f"{name}.log.gz").read_bytes())


@pytest.mark.parametrize("name", ["dns", "ssl", "x509", "notice", "weird"])
def test_zeek_reader_agrees_on_the_real_logs(shared_data: Path, name: str) -> None:
    both("zeek", real_zeek(shared_data, name))


@pytest.mark.parametrize(
    "body",
    [
        CONN * 3,
        CONN + "\n" + CONN,  # a blank line
        CONN + "1748822400.2\tC2\t10.0.0.2\t5001\n",  # a short line
        CONN + CONN.replace("\n", "\textra\n"),  # a long line
        CONN.replace("\n", "\r\n") * 2,  # CRLF endings
        CONN + "1748822400.2\tC2\t10.0.0.2\t5001\n" + CONN.replace("\n", "\tx\tx\n"),  # cancel out
        CONN + "not-a-time\tC3\t10.0.0.3\tport\t192.0.2.8\t80\ttcp\t-\t-\t-\n",  # bad values
        CONN + "1748822400.3\tC4\t10.0.0.4\t5002\t192.0.2.9\t80\ttcp\t\t(empty)\t-\n",  # empties
        CONN + ZEEK_HEADER.replace("conn", "other") + CONN,  # a header in the middle
        CONN + CONN.rstrip("\n"),  # no final newline
    ],
)
def test_zeek_reader_agrees_on_awkward_input(body: str) -> None:
    both("zeek", (ZEEK_HEADER + body).encode())


def test_zeek_reader_agrees_on_a_chunk_without_its_header() -> None:
    parser = get_parser("zeek")
    ctx_fast, ctx_slow = ParseContext(), ParseContext()
    first = split_lines((ZEEK_HEADER + CONN).encode())
    parser.read(first, ctx_fast)
    parser.parse(first.text, ctx_slow)
    later = split_lines((CONN * 4).encode(), 1000)
    assert_frame_equal(
        parser.read(later, ctx_fast).events, parser.parse(later.text, ctx_slow).events
    )


def test_zeek_reader_takes_the_csv_path_on_clean_input(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("split line by line")

    monkeypatch.setattr(zeek_module, "_split_fields", refuse)
    result = get_parser("zeek").read(split_lines((ZEEK_HEADER + CONN * 5).encode()), ParseContext())
    assert result.events.height == 5
    assert result.events.get_column("destination.port").to_list() == [443] * 5


def test_invalid_utf8_falls_back_to_the_line_parser() -> None:
    lines = split_lines(
        (ZEEK_HEADER + CONN).encode()
        + b"1748822400.2\tC\xff\t10.0.0.1\t1\t2.2.2.2\t2\ttcp\t-\t1\t2\n"
    )
    assert lines.data is None
    result = get_parser("zeek").read(lines, ParseContext())
    assert result.events.height == 2
    assert pl.Series(result.events.get_column("event.original")).str.contains("\ufffd").any()


ECS_NESTED = (
    '{"@timestamp":"2025-06-02T00:00:00.002Z","event":{"dataset":"panw.panos","action":"allow",'
    '"type":["connection","allowed"]},"observer":{"vendor":"Palo Alto Networks","name":"pa-1"},'
    '"source":{"ip":"11.33.3.52","port":64486,"bytes":41418},"destination":{"ip":"198.18.35.172",'
    '"port":80,"bytes":1268316},"network":{"transport":"tcp","protocol":"web-browsing"},'
    '"url":{"full":"http://learnhub.test/feed.xml?q=${jndi:x}","domain":"learnhub.test"},'
    '"user_agent":{"original":"Agent \\u00e9/1.0"},"rule":{"name":"allow-web"}}\n'
)
ECS_FLAT = (
    '{"@timestamp":"2025-06-02T00:00:01Z","source.ip":"10.0.0.1","source.port":"5000",'
    '"destination.ip":"192.0.2.1","event.type":["denied"],"dns.question.name":"Evil.Example."}\n'
)


@pytest.mark.parametrize(
    "body",
    [
        ECS_NESTED * 3,
        ECS_FLAT * 2,
        ECS_NESTED + ECS_FLAT,  # both key styles in one chunk
        ECS_NESTED + ECS_NESTED.replace('"port":64486', '"port":"64486"'),  # type changes
        ECS_NESTED + ECS_NESTED.replace('"bytes":41418', '"bytes":41418.5'),  # a float
        ECS_NESTED + ECS_NESTED.replace('"port":80', '"port":true'),  # a boolean
        ECS_NESTED + "\n" + ECS_FLAT,  # a blank line
        ECS_NESTED + "not json\n" + ECS_FLAT,
        ECS_NESTED + '{"@timestamp": "2025-06-02T00:00:02Z", "source": {"ip": "10.0.0.2"\n',
        ECS_NESTED + '["an", "array"]\n',
        ECS_NESTED + '{"source":{"ip":"10.0.0.3"}}\n',  # no @timestamp
        ECS_NESTED + '{"@timestamp":"2025-06-02T00:00:03Z","event":{"type":"denied"}}\n',
        ECS_NESTED + '{"@timestamp":"2025-06-02T00:00:03Z","url":"http://flat.example/"}\n',
        ECS_NESTED.replace('"user_agent":', '"labels":{"n":1.5},"user_agent":'),  # unread float
        ECS_NESTED.replace("\n", "\r\n") * 2,
        ECS_NESTED.replace('"source":', '"source" :') * 2,  # a space before the colon
        ECS_NESTED.replace(',"domain":"learnhub.test"', "") * 2,  # url.domain from url.full
        ECS_NESTED.replace('"port":80,', "") * 2,  # the destination port from url.full
    ],
)
def test_ecs_reader_agrees_with_the_line_parser(body: str) -> None:
    both("ecs", body.encode())


def test_ecs_reader_takes_the_arrow_path_on_clean_input(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("parsed line by line")

    monkeypatch.setattr(ecs_module, "parse_ecs", refuse)
    data = (ECS_NESTED * 3 + ECS_FLAT).encode()
    result = get_parser("ecs").read(split_lines(data), ParseContext())
    assert result.events.get_column("source.port").to_list() == [64486] * 3 + [5000]
    assert result.events.get_column("event.type").to_list() == ["allowed"] * 3 + ["denied"]
    assert result.events.get_column("dns.question.name").to_list()[-1] == "evil.example"


def test_one_pass_iso_timestamps_agree_with_the_general_reader() -> None:
    texts = pl.Series(
        [
            "2025-06-02T00:00:00.002Z",
            "2025-06-02T00:00:00z",
            "2025-06-02 00:00:00Z",
            "2025-06-02T01:00:00+01:00",
            "2025-06-02T00:00:00.123456-05:30",
            "2025-06-02T00:00:00",
            " 2025-06-02T00:00:00Z ",
            "2025-13-02T00:00:00Z",
            "yesterday",
            None,
        ]
    )
    general = texts.to_frame("t").select(iso_timestamp(pl.col("t"))).to_series()
    assert iso_timestamps(texts).to_list() == general.to_list()
    assert general.null_count() == 3


@pytest.mark.parametrize(
    "lines",
    [
        [TRAFFIC, URL, VIRUS, TRAFFIC],  # headers, quoted fields, a record without a header
        [TRAFFIC, record({**URL_FIELDS, 46: '"agent ""quoted"", v1"'})],  # doubled quotes
        [TRAFFIC, record({**TRAFFIC_FIELDS, 11: ""}), record(TRAFFIC_FIELDS, 40)],  # empty, short
        [TRAFFIC, "<14>1 2025-11-25T13:01:02Z fw-a - - - [m@1 x=a,b] " + record(TRAFFIC_FIELDS)],
        [TRAFFIC, record({**URL_FIELDS, 31: '"unterminated,url'}), URL],  # a quote left open
        [TRAFFIC, record({**URL_FIELDS, 12: '"bob"x'}), URL],  # text after a closing quote
        [TRAFFIC, "", URL],  # a blank line
        [TRAFFIC + "\r", URL + "\r"],  # CRLF endings
        [TRAFFIC, "garbage, not a record", record({**TRAFFIC_FIELDS, 3: "SYSTEM"})],
        [record({**TRAFFIC_FIELDS, 24: "http", 31: "lots"}), URL],  # bad values
    ],
)
def test_panos_reader_agrees_with_the_line_parser(lines: list[str]) -> None:
    both("panos", "".join(f"{line}\n" for line in lines).encode())


def test_panos_reader_takes_the_csv_path_on_clean_input(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("parsed line by line")

    monkeypatch.setattr(panos_module, "parse_panos", refuse)
    data = "".join(f"{line}\n" for line in [TRAFFIC, URL, VIRUS]).encode()
    result = get_parser("panos").read(split_lines(data), ParseContext(default_year=2025))
    assert result.events.get_column("observer.name").to_list() == [
        "pa-bdr-01",
        "pa-bdr-02",
        "pa-bdr-02",  # no header: the record's device name
    ]
    assert (
        result.events.get_column("url.full").to_list()[1]
        == "http://Evil.Example.net./dl/a,b.exe?x=1"
    )
