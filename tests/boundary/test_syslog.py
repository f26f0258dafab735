"""Syslog headers split off whole columns, and TCP stream framing (RFC 6587)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.boundary.syslog import OctetCountedDecoder, split_syslog
from bastion.core.errors import FormatError


def split_one(line: str, year: int = 2026) -> dict[str, object]:
    frame = split_syslog(pl.Series([line], dtype=pl.String), year)
    assert frame.columns == ["syslog.timestamp", "syslog.hostname", "syslog.appname", "message"]
    return frame.row(0, named=True)


def test_rfc3164_header_with_pri_tag_and_pid() -> None:
    row = split_one("<134>Nov 25 13:01:02 fw01 tag[123]: hello world")
    assert row == {
        "syslog.timestamp": datetime(2026, 11, 25, 13, 1, 2, tzinfo=UTC),
        "syslog.hostname": "fw01",
        "syslog.appname": "tag",
        "message": "hello world",
    }


def test_rfc3164_without_pri_takes_the_default_year_and_a_space_padded_day() -> None:
    row = split_one("Nov  5 07:08:09 gw01 kernel: [123.4] DROP IN=eth0", year=2024)
    assert row["syslog.timestamp"] == datetime(2024, 11, 5, 7, 8, 9, tzinfo=UTC)
    assert (row["syslog.hostname"], row["syslog.appname"]) == ("gw01", "kernel")
    assert row["message"] == "[123.4] DROP IN=eth0"


def test_rsyslog_iso_timestamp_is_converted_to_utc() -> None:
    row = split_one("2025-11-25T13:01:02.123456+01:00 web01 sshd[99]: Accepted password")
    assert row["syslog.timestamp"] == datetime(2025, 11, 25, 12, 1, 2, 123456, tzinfo=UTC)
    assert (row["syslog.hostname"], row["syslog.appname"]) == ("web01", "sshd")
    assert row["message"] == "Accepted password"


def test_cisco_style_header_with_year_and_no_host() -> None:
    row = split_one("<166>Nov 25 2025 13:01:02: %ASA-6-302013: Built outbound", year=1999)
    assert row["syslog.timestamp"] == datetime(2025, 11, 25, 13, 1, 2, tzinfo=UTC)
    assert row["syslog.hostname"] is None
    assert row["syslog.appname"] is None
    assert row["message"] == "%ASA-6-302013: Built outbound"


def test_cisco_device_id_then_empty_tag() -> None:
    row = split_one("<166>Nov 25 2025 13:01:02 asa01 : %ASA-4-106023: Deny tcp")
    assert (row["syslog.hostname"], row["syslog.appname"]) == ("asa01", None)
    assert row["message"] == "%ASA-4-106023: Deny tcp"


def test_rfc5424_with_structured_data_blocks_and_bom() -> None:
    line = (
        '<165>1 2026-11-25T13:01:02.123Z fw01 app 4242 ID47 [ex@32473 a="1" b="x\\]y"]'
        '[meta@1 c="2"] \ufeffthe message'
    )
    row = split_one(line)
    assert row == {
        "syslog.timestamp": datetime(2026, 11, 25, 13, 1, 2, 123000, tzinfo=UTC),
        "syslog.hostname": "fw01",
        "syslog.appname": "app",
        "message": "the message",
    }


def test_rfc5424_nil_values_are_null() -> None:
    row = split_one("<14>1 - - - - - - just text")
    assert row == {
        "syslog.timestamp": None,
        "syslog.hostname": None,
        "syslog.appname": None,
        "message": "just text",
    }


def test_bare_pri_is_stripped_from_the_message() -> None:
    row = split_one('<189>date=2025-11-25 time=13:01:02 devname="fw"')
    assert row["message"] == 'date=2025-11-25 time=13:01:02 devname="fw"'
    assert row["syslog.timestamp"] is None


def test_line_without_header_is_the_whole_message() -> None:
    row = split_one("1,2025/11/25 13:01:02,0123,TRAFFIC,end")
    assert row == {
        "syslog.timestamp": None,
        "syslog.hostname": None,
        "syslog.appname": None,
        "message": "1,2025/11/25 13:01:02,0123,TRAFFIC,end",
    }


def test_cef_and_key_value_messages_are_not_taken_for_tag_or_host() -> None:
    cef = split_one("Nov 25 13:01:02 host CEF:0|Vendor|Product|1|100|Name|5|src=1.2.3.4")
    assert (cef["syslog.hostname"], cef["syslog.appname"]) == ("host", None)
    assert cef["message"].startswith("CEF:0|")
    no_host = split_one("Nov 25 13:01:02 date=2025-11-25 time=13:01:02")
    assert no_host["syslog.hostname"] is None
    assert no_host["message"] == "date=2025-11-25 time=13:01:02"
    csv = split_one("Nov 25 13:01:02 PA-VM 1,2025/11/25 13:01:02,0123,TRAFFIC")
    assert (csv["syslog.hostname"], csv["message"]) == (
        "PA-VM",
        "1,2025/11/25 13:01:02,0123,TRAFFIC",
    )


def test_impossible_date_gives_null_time_but_keeps_the_split() -> None:
    row = split_one("Feb 30 13:01:02 fw01 app: text")
    assert row["syslog.timestamp"] is None
    assert (row["syslog.hostname"], row["message"]) == ("fw01", "text")


def test_mixed_batch_keeps_one_row_per_line() -> None:
    lines = pl.Series(["<1>1 - h a - - - m", "Nov 25 13:01:02 h a: m", "m", None])
    frame = split_syslog(lines, 2026)
    assert frame.height == 4
    assert frame.get_column("message").to_list() == ["m", "m", "m", None]
    assert frame.get_column("syslog.hostname").to_list() == ["h", "h", None, None]


_HOSTS = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,5})?", fullmatch=True)
_TAGS = st.from_regex(r"[a-z][a-z0-9_-]{0,15}", fullmatch=True)
_MESSAGES = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=60)
_TIMES = st.datetimes(datetime(2000, 1, 1), datetime(2037, 12, 31)).map(
    lambda t: t.replace(microsecond=0, tzinfo=UTC)
)


@settings(max_examples=25, deadline=None)
@given(time=_TIMES, host=_HOSTS, tag=_TAGS, pid=st.integers(1, 99999), message=_MESSAGES)
def test_rfc3164_round_trip(time: datetime, host: str, tag: str, pid: int, message: str) -> None:
    line = f"<13>{time:%b} {time.day:2d} {time:%H:%M:%S} {host} {tag}[{pid}]: {message}"
    row = split_one(line, year=time.year)
    assert row == {
        "syslog.timestamp": time,
        "syslog.hostname": host,
        "syslog.appname": tag,
        "message": message,
    }


@settings(max_examples=25, deadline=None)
@given(
    time=_TIMES,
    host=_HOSTS,
    app=_TAGS,
    message=_MESSAGES,
    data=st.lists(st.from_regex(r'[a-z]+@[0-9]+ k="[^"\\\]]*"', fullmatch=True), max_size=3),
)
def test_rfc5424_round_trip(
    time: datetime, host: str, app: str, message: str, data: list[str]
) -> None:
    structured = "".join(f"[{element}]" for element in data) or "-"
    line = f"<165>1 {time:%Y-%m-%dT%H:%M:%S}Z {host} {app} - - {structured} {message}"
    row = split_one(line)
    assert row == {
        "syslog.timestamp": time,
        "syslog.hostname": host,
        "syslog.appname": app,
        "message": message,
    }


def test_decoder_returns_octet_counted_frames_and_keeps_the_partial_one() -> None:
    decoder = OctetCountedDecoder()
    assert decoder.feed(b"5 hello13 <14>hi ther") == [b"hello"]
    assert decoder.pending == len(b"13 <14>hi ther")
    assert decoder.feed(b"e\n") == [b"<14>hi there"]  # the counted LF is not content
    assert decoder.pending == 0


def test_decoder_waits_for_the_rest_of_a_length() -> None:
    decoder = OctetCountedDecoder()
    assert decoder.feed(b"1") == []
    assert decoder.feed(b"1 <14>abcdefg") == [b"<14>abcdefg"]


def test_decoder_reads_newline_framing_and_mixes_it_with_counting() -> None:
    decoder = OctetCountedDecoder()
    frames = decoder.feed(b"<14>first\r\n\n<14>second\n9 <14>third<14>fou")
    assert frames == [b"<14>first", b"<14>second", b"<14>third"]
    assert decoder.feed(b"rth\n") == [b"<14>fourth"]


def test_decoder_takes_a_digit_led_line_without_space_as_newline_framed() -> None:
    decoder = OctetCountedDecoder()
    assert decoder.feed(b"2025-11-25T13:01:02Z host app: text\n") == [
        b"2025-11-25T13:01:02Z host app: text"
    ]


def test_decoder_length_with_leading_zero_is_an_error_with_its_offset() -> None:
    decoder = OctetCountedDecoder()
    decoder.feed(b"3 abc")
    with pytest.raises(FormatError, match=r"'012' is not a number .* at byte offset 5"):
        decoder.feed(b"012 <14>abcdefghi")


def test_decoder_frame_over_the_maximum_is_an_error() -> None:
    decoder = OctetCountedDecoder(max_frame=100)
    with pytest.raises(
        FormatError, match=r"frame length 101 exceeds the maximum of 100 .* offset 0"
    ):
        decoder.feed(b"101 <14>")
    with pytest.raises(FormatError, match="exceeds the maximum"):
        OctetCountedDecoder(max_frame=100).feed(b"12345")  # too many digits to be a length


def test_decoder_line_over_the_maximum_without_newline_is_an_error() -> None:
    decoder = OctetCountedDecoder(max_frame=10)
    assert decoder.feed(b"<14>ok\n<14>") == [b"<14>ok"]
    with pytest.raises(
        FormatError, match="longer than 10 bytes without a newline at byte offset 7"
    ):
        decoder.feed(b"0123456789")


def test_decoder_flush_returns_the_last_unterminated_line() -> None:
    decoder = OctetCountedDecoder()
    assert decoder.feed(b"<14>a\n<14>b") == [b"<14>a"]
    assert decoder.flush() == [b"<14>b"]
    assert decoder.flush() == []


def test_decoder_flush_inside_a_counted_frame_is_an_error() -> None:
    decoder = OctetCountedDecoder()
    decoder.feed(b"50 <14>cut short")
    with pytest.raises(FormatError, match="stream ended inside an octet-counted frame"):
        decoder.flush()


_FRAMES = st.lists(
    st.binary(min_size=1, max_size=40).filter(lambda b: b[:1] not in (b"\r", b"\n")),
    min_size=1,
    max_size=8,
)


@settings(max_examples=50, deadline=None)
@given(frames=_FRAMES, cuts=st.lists(st.integers(0, 400), max_size=10))
def test_decoder_frames_do_not_depend_on_how_reads_cut_the_stream(
    frames: list[bytes], cuts: list[int]
) -> None:
    # Frames whose content ends in CR/LF lose it: trailing line ends are framing, not content.
    stream = b"".join(b"%d %s" % (len(frame), frame) for frame in frames)
    points = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    decoder = OctetCountedDecoder()
    received = []
    for start, end in itertools.pairwise(points):
        received += decoder.feed(stream[start:end])
    assert received == [frame.rstrip(b"\r\n") for frame in frames]
    assert decoder.pending == 0
