"""No input crashes a parser: every line is an event, a reject with a reason, or blank.

Hypothesis feeds every registered parser (its line parser, and its chunk reader where
it has one) random text, random bytes, real lines cut short anywhere, and whole lines
of every other format; the accounting of ``test_accounting`` must hold, with no
exception. The real lines are the samples ``test_accounting`` gathers.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.boundary.parsers.test_accounting import samples
from tests.conftest import SHARED_DATA

from bastion.boundary.lines import split_lines
from bastion.boundary.parsers import PARSERS, ParseContext, ParseResult, get_parser
from bastion.core.events import LINE_COLUMN

MAX_EXAMPLES = 60


def _real_lines() -> dict[str, list[str]]:
    """Return up to 60 data lines (and any header lines) of each format."""
    out = {}
    for fmt in PARSERS:
        lines = [line for line in samples(fmt, SHARED_DATA) if line.strip()]
        headers = [line for line in lines if line.startswith("#")][:12]
        data = [line for line in lines if not line.startswith("#")]
        out[fmt] = headers + data[:: max(1, len(data) // 60)][:60]
    return out


REAL = _real_lines()
NOTES = [
    "These are my notes.",
    "The firewall, it said, was fine; or was it?",
    "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30",
]


_KEYS = st.sampled_from(["ts", "uid", "@timestamp", "source", "a", ""]) | st.text(max_size=6)
_VALUES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
json_object = st.dictionaries(_KEYS, _VALUES | st.dictionaries(_KEYS, _VALUES), max_size=4).map(
    json.dumps
)


def lines_for(fmt: str) -> st.SearchStrategy[list[str]]:
    """Lines a parser of ``fmt`` may meet: garbage, its own lines cut short, other formats."""
    own = REAL[fmt]
    others = [line for name, lines in REAL.items() if name != fmt for line in lines] + NOTES
    # Lines are decoded from bytes, so they never hold a lone surrogate (category Cs).
    random_text = st.text(
        st.characters(exclude_characters="\n", exclude_categories=("Cs",)), max_size=80
    )
    random_bytes = st.binary(max_size=80).map(
        lambda b: b.decode("utf-8", errors="replace").replace("\n", " ")
    )
    cut = st.tuples(st.sampled_from(own), st.floats(0, 1)).map(
        lambda pair: pair[0][: int(len(pair[0]) * pair[1])]
    )
    spliced = st.tuples(st.sampled_from(own), st.sampled_from(others), st.floats(0, 1)).map(
        lambda t: t[0][: int(len(t[0]) * t[2])] + t[1][int(len(t[1]) * t[2]) :]
    )
    line = st.one_of(
        random_text,
        random_bytes,
        json_object,
        cut,
        spliced,
        st.sampled_from(others),
        st.sampled_from(own),
    )
    return st.lists(line, min_size=1, max_size=12)


def assert_accounted(fmt: str, text: pl.Series, result: ParseResult) -> None:
    """Check read = parsed + rejected + blank, each line once, and every reject has a reason."""
    seen = [*result.events.get_column(LINE_COLUMN), *result.rejects.get_column(LINE_COLUMN)]
    assert len(seen) == len(set(seen)), "a line is both an event and a reject, or twice one"
    assert all(0 <= index < len(text) for index in seen)
    blank = get_parser(fmt).count_blank(text)
    assert len(text) == result.events.height + result.rejects.height + blank
    assert result.rejects.get_column("reason").null_count() == 0


SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("fmt", sorted(PARSERS))
def test_the_line_parser_never_crashes(fmt: str) -> None:
    @SETTINGS
    @given(lines=lines_for(fmt))
    def check(lines: list[str]) -> None:
        text = pl.Series(lines, dtype=pl.String)
        result = get_parser(fmt).parse(text, ParseContext(source=f"/logs/{fmt}.log"))
        assert_accounted(fmt, text, result)

    check()


@pytest.mark.parametrize("fmt", sorted(PARSERS))
def test_the_chunk_reader_never_crashes(fmt: str) -> None:
    @SETTINGS
    @given(lines=lines_for(fmt), noise=st.binary(max_size=200))
    def check(lines: list[str], noise: bytes) -> None:
        data = "".join(f"{line}\n" for line in lines).encode() + noise
        chunk = split_lines(data)
        result = get_parser(fmt).read(chunk, ParseContext(source=f"/logs/{fmt}.log"))
        assert_accounted(fmt, chunk.text, result)

    check()


@pytest.mark.parametrize("fmt", sorted(PARSERS))
def test_a_chunk_of_json_objects_never_crashes(fmt: str) -> None:
    @SETTINGS
    @given(lines=st.lists(json_object, min_size=1, max_size=8))
    def check(lines: list[str]) -> None:
        chunk = split_lines("".join(f"{line}\n" for line in lines).encode())
        result = get_parser(fmt).read(chunk, ParseContext(source=f"/logs/{fmt}.log"))
        assert_accounted(fmt, chunk.text, result)

    check()


@pytest.mark.parametrize("fmt", sorted(PARSERS))
def test_every_other_formats_lines_are_rejected_or_read_never_crash(fmt: str) -> None:
    lines = [line for name, own in REAL.items() if name != fmt for line in own] + NOTES
    text = pl.Series(lines, dtype=pl.String)
    parser = get_parser(fmt)
    assert_accounted(fmt, text, parser.parse(text, ParseContext(source=f"/logs/{fmt}.log")))
    chunk = split_lines("".join(f"{line}\n" for line in lines).encode())
    assert_accounted(fmt, chunk.text, parser.read(chunk, ParseContext(source=f"/logs/{fmt}.log")))


def test_a_cisco_batch_without_a_supported_message_is_rejected_line_by_line() -> None:
    lines = ["%ASA-6-999999: something else", "These are my notes."]
    result = get_parser("cisco-asa").parse(pl.Series(lines), ParseContext())
    assert result.rejects.get_column("reason").to_list() == [
        "cisco-asa: ASA message 999999 is not read",
        "cisco-asa: no %ASA-<level>-<id>: message id in the line",
    ]


def test_an_ecs_chunk_of_objects_without_ecs_fields_is_read_line_by_line() -> None:
    lines = ['{"a": 1}', '{"b": "x"}']
    chunk = split_lines("".join(f"{line}\n" for line in lines).encode())
    result = get_parser("ecs").read(chunk, ParseContext())
    assert_accounted("ecs", chunk.text, result)
    assert result.events.height + result.rejects.height == 2


# PAN-OS: valid records with fields reordered, repeated, dropped or added (issue 23).
ADDRESS_COLUMNS = ("source.ip", "destination.ip", "source.nat.ip", "destination.nat.ip")


def assert_addresses(result: ParseResult) -> None:
    """Check every address column holds IP addresses or null, never a name or a shifted field."""
    for column in ADDRESS_COLUMNS:
        for value in result.events.get_column(column).drop_nulls():
            ipaddress.ip_address(value)  # raises on anything that is not an address


def _panos_records() -> list[str]:
    golden = Path(__file__).parent / "golden" / "panos" / "records.log"
    return [line for line in golden.read_text().splitlines() if line]


PANOS_RECORDS = _panos_records()
_FIELD = st.sampled_from(
    [
        "",
        "0",
        "0.0.0.0",
        "fw01",
        "10.0.0.300",
        "2001:db8::1",
        "TRAFFIC",
        "THREAT",
        "SYSTEM",
        "auth-fail",
        "2025/11/25 13:01:02",
        "2021-11-16T11:14:58.908-08:00",
        '"a,b"',
        "x" * 40,
        "dmz:OCSP_Server",
        "::",
        "65535",
        "-1",
        "allow",
        "CORP\\alice",
    ]
) | st.text(st.characters(exclude_characters="\n\r", exclude_categories=("Cs",)), max_size=12)


@st.composite
def mangled_panos(draw: st.DrawFn) -> str:
    """A real-shaped PAN-OS record with its fields reordered, repeated, dropped or added."""
    fields = draw(st.sampled_from(PANOS_RECORDS)).split(",")
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(fields) - 1))
        edit = draw(st.sampled_from(["swap", "drop", "insert", "repeat", "replace"]))
        if edit == "swap":
            other = draw(st.integers(0, len(fields) - 1))
            fields[at], fields[other] = fields[other], fields[at]
        elif edit == "drop" and len(fields) > 1:
            del fields[at]
        elif edit == "insert":
            fields.insert(at, draw(_FIELD))
        elif edit == "repeat":
            fields.insert(at, fields[at])
        else:
            fields[at] = draw(_FIELD)
    return ",".join(fields)


@SETTINGS
@given(lines=st.lists(mangled_panos() | st.sampled_from(PANOS_RECORDS), min_size=1, max_size=8))
def test_panos_fields_reordered_extra_or_missing_never_crash_nor_misplace_addresses(
    lines: list[str],
) -> None:
    text = pl.Series(lines, dtype=pl.String)
    for timezone in ("UTC", "America/New_York"):
        ctx = ParseContext(source="/logs/panos.log", default_year=2025, timezone=timezone)
        by_lines = get_parser("panos").parse(text, ctx)
        assert_accounted("panos", text, by_lines)
        assert_addresses(by_lines)
        chunk = split_lines("".join(f"{line}\n" for line in lines).encode())
        by_chunk = get_parser("panos").read(chunk, ctx)
        assert_accounted("panos", chunk.text, by_chunk)
        assert_addresses(by_chunk)


# Issue 23: the syslog and web formats' real-shaped lines (the golden files) with fields
# reordered, dropped, added or replaced never crash a parser, and never put anything but
# an IP address in an address column.
GOLDEN = Path(__file__).parent / "golden"
GOLDEN_FORMATS = {
    "asa": "cisco-asa",
    "iptables": "iptables",
    "webaccess": "nginx",
    "squid": "squid",
}
_ODD_TOKENS = [
    "OCSP_Server",
    "host.example.org",
    "999.1.1.1",
    "01.2.3.4",
    "1.2.3.4:",
    "::g",
    "1:2:3:4:5:6:7:8:9",
    "${jndi:ldap://x/a}",
    "SRC=attacker.example",
    "DST=",
    "SPT=70000",
    "(LOCAL\\eve)",
    "outside:name/80",
    "inside:10.0.0.1/x",
    "[",
    "]",
    '"',
    "-",
    "message repeated 2 times: [",
]


def _golden_lines(directory: str) -> list[str]:
    return (GOLDEN / directory / "lines.log").read_text(encoding="utf-8").splitlines()


def _mutated(line: str, data: st.DataObject) -> str:
    """Return ``line`` with some of its space-separated fields moved, dropped, added or replaced."""
    tokens = line.split(" ")
    for _ in range(data.draw(st.integers(0, 4))):
        op = data.draw(st.sampled_from(["swap", "drop", "add", "replace", "value"]))
        i = data.draw(st.integers(0, len(tokens) - 1)) if tokens else 0
        j = data.draw(st.integers(0, len(tokens) - 1)) if tokens else 0
        extra = data.draw(st.sampled_from(_ODD_TOKENS) | st.text(max_size=8))
        if op == "swap" and tokens:
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif op == "drop" and tokens:
            del tokens[i]
        elif op == "add":
            tokens.insert(i, extra)
        elif op == "replace" and tokens:
            tokens[i] = extra
        elif op == "value" and tokens:
            key, sep, _ = tokens[i].partition("=")
            tokens[i] = f"{key}{sep or '='}{extra}"
    return " ".join(tokens).replace("\n", " ")


@pytest.mark.parametrize("directory", sorted(GOLDEN_FORMATS))
def test_golden_lines_with_fields_moved_dropped_or_added_never_crash(directory: str) -> None:
    fmt, own = GOLDEN_FORMATS[directory], _golden_lines(directory)

    @SETTINGS
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        picked = data.draw(st.lists(st.sampled_from(own), min_size=1, max_size=8))
        lines = [_mutated(line, data) for line in picked]
        text = pl.Series(lines, dtype=pl.String)
        result = get_parser(fmt).parse(text, ParseContext(source=f"/logs/{fmt}.log"))
        assert_accounted(fmt, text, result)
        assert_addresses(result)

    check()


def test_netfilter_fields_in_any_order_give_the_same_event() -> None:
    lines = [line for line in _golden_lines("iptables") if "IN=" in line and " [SRC" not in line]
    parse = get_parser("iptables").parse
    keep = ["source.ip", "destination.ip", "source.port", "destination.port", "network.transport"]

    @SETTINGS
    @given(line=st.sampled_from(lines), data=st.data())
    def check(line: str, data: st.DataObject) -> None:
        head, sep, fields = line.partition("IN=")
        first, *rest = (sep + fields).split(" ")
        shuffled = data.draw(st.permutations(rest))
        moved = f"{head}{' '.join([first, *shuffled])}"
        want = parse(pl.Series([line]), ParseContext())
        got = parse(pl.Series([moved]), ParseContext())
        assert got.rejects.height == want.rejects.height
        assert got.events.select(keep).to_dicts() == want.events.select(keep).to_dicts()

    check()
