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


# FortiGate, CEF and ECS JSON: valid records with their fields reordered, some missing,
# others added and address fields holding anything never crash, and an address column
# only ever holds an IP address.
_ADDRESS_COLUMNS = ("source.ip", "destination.ip", "source.nat.ip", "destination.nat.ip")
_JUNK = st.sampled_from(
    ["fw.example.org", "N/A", "256.1.1.1", "1.2.3", "dead:beef", "::g", "", "2001:db8::1"]
) | st.text(alphabet="0123456789abcdefABCDEF.:", max_size=24)


def _fields_variant(
    pairs: list[tuple[str, str]], address_keys: list[str]
) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Return a strategy: the pairs shuffled, some dropped, extras and junk addresses added."""
    extra_key = st.sampled_from([key for key, _ in pairs]) | st.from_regex(
        r"[a-z][a-zA-Z0-9]{0,8}", fullmatch=True
    )
    extra = st.tuples(extra_key, st.text(alphabet='abc 1.:=\\"', max_size=8))
    junk = st.tuples(st.sampled_from(address_keys), _JUNK)
    return st.tuples(
        st.permutations(pairs),
        st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)),
        st.lists(extra | junk, max_size=4),
    ).map(lambda t: [p for p, keep in zip(t[0], t[1], strict=True) if keep] + t[2])


def _check_addresses(fmt: str, lines: list[str]) -> None:
    text = pl.Series(lines, dtype=pl.String)
    result = get_parser(fmt).parse(text, ParseContext(source=f"/logs/{fmt}.log"))
    assert_accounted(fmt, text, result)
    for name in _ADDRESS_COLUMNS:
        for value in result.events.get_column(name).drop_nulls():
            ipaddress.ip_address(value)  # raises ValueError on anything but an address


_FORTIGATE_PAIRS = [
    ("date", "2025-11-25"),
    ("time", "13:01:02"),
    ("devname", '"FGT60F"'),
    ("eventtime", "1764075662123456789"),
    ("tz", '"-0800"'),
    ("logid", '"0000000013"'),
    ("type", '"traffic"'),
    ("subtype", '"forward"'),
    ("srcip", "10.1.100.11"),
    ("srcport", "58012"),
    ("dstip", "2001:db8::34"),
    ("dstport", "443"),
    ("proto", "6"),
    ("action", '"close"'),
    ("policyname", '"LAN to WAN"'),
    ("user", '"${jndi:ldap://x/a}"'),
    ("transip", "203.0.113.5"),
    ("transport", "61012"),
    ("tranip", "10.20.0.10"),
    ("app", '"Tor"'),
    ("utmaction", '"block"'),
    ("ui", '"ssh(198.51.100.9)"'),
    ("sentbyte", "1188"),
]


@SETTINGS
@given(
    variants=st.lists(
        _fields_variant(_FORTIGATE_PAIRS, ["srcip", "dstip", "transip", "tranip", "ui"]),
        min_size=1,
        max_size=6,
    ),
    kinds=st.lists(
        st.sampled_from(
            [("traffic", "forward"), ("utm", "ips"), ("utm", "app-ctrl"), ("event", "system")]
        ),
        min_size=6,
        max_size=6,
    ),
)
def test_fortigate_fields_reordered_missing_or_extra_never_crash_nor_misplace_an_address(
    variants: list[list[tuple[str, str]]], kinds: list[tuple[str, str]]
) -> None:
    lines = []
    for pairs, (kind, subtype) in zip(variants, kinds, strict=False):
        fields = [
            (k, f'"{kind}"' if k == "type" else f'"{subtype}"' if k == "subtype" else v)
            for k, v in pairs
        ]
        if kind == "event":
            fields = [(k, '"login"' if k == "action" else v) for k, v in fields]
        lines.append("<189>" + " ".join(f"{k}={v}" for k, v in fields))
    _check_addresses("fortigate", lines)


_CEF_PAIRS = [
    ("rt", "1764075662123"),
    ("src", "10.1.1.10"),
    ("spt", "50000"),
    ("dst", "2001:db8::34"),
    ("dpt", "443"),
    ("proto", "TCP"),
    ("act", "blocked"),
    ("suser", "CORP\\\\alice"),
    ("duser", "bob"),
    ("sourceTranslatedAddress", "203.0.113.5"),
    ("sourceTranslatedPort", "61000"),
    ("destinationTranslatedAddress", "10.20.0.10"),
    ("cs1Label", "Threat Name"),
    ("cs1", "Log4Shell"),
    ("cat", "exploit"),
]


@SETTINGS
@given(
    variants=st.lists(
        _fields_variant(
            _CEF_PAIRS, ["src", "dst", "sourceTranslatedAddress", "destinationTranslatedAddress"]
        ),
        min_size=1,
        max_size=6,
    ),
    header=st.sampled_from(
        ["", "<134>Nov 25 13:01:02 fw01 ", "<134>1 2025-11-25T13:01:02Z h a - - - "]
    ),
)
def test_cef_fields_reordered_missing_or_extra_never_crash_nor_misplace_an_address(
    variants: list[list[tuple[str, str]]], header: str
) -> None:
    lines = [
        f"{header}CEF:0|Acme|IDS|1.0|100|Exploit|9|" + " ".join(f"{k}={v}" for k, v in pairs)
        for pairs in variants
    ]
    _check_addresses("cef", lines)


_ECS_PAIRS = [
    ("@timestamp", "2025-11-25T13:01:02Z"),
    ("event.category", "authentication"),
    ("event.outcome", "failure"),
    ("source.ip", "10.1.1.10"),
    ("client.ip", "10.1.1.11"),
    ("destination.ip", "2001:db8::34"),
    ("server.ip", "10.1.1.12"),
    ("source.nat.ip", "203.0.113.5"),
    ("source.nat.port", "61000"),
    ("destination.nat.ip", "10.20.0.10"),
    ("user.name", "alice"),
    ("threat.name", "Log4Shell"),
    ("network.application", "Tor"),
]


@SETTINGS
@given(
    variants=st.lists(
        _fields_variant(
            _ECS_PAIRS,
            ["source.ip", "client.ip", "destination.ip", "server.ip", "source.nat.ip"],
        ),
        min_size=1,
        max_size=6,
    ),
    nested=st.booleans(),
)
def test_ecs_fields_reordered_missing_or_extra_never_crash_nor_misplace_an_address(
    variants: list[list[tuple[str, str]]], nested: bool
) -> None:
    def document(pairs: list[tuple[str, str]]) -> str:
        if not nested:
            return json.dumps(dict(pairs))
        tree: dict[str, object] = {}
        for key, value in pairs:
            *parents, leaf = key.split(".")
            node = tree
            for part in parents:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    break
                node = child
            else:
                node[leaf] = value
        return json.dumps(tree)

    lines = [document(pairs) for pairs in variants]
    _check_addresses("ecs", lines)
    chunk = split_lines("".join(f"{line}\n" for line in lines).encode())
    result = get_parser("ecs").read(chunk, ParseContext())
    assert_accounted("ecs", chunk.text, result)
    for name in _ADDRESS_COLUMNS:
        for value in result.events.get_column(name).drop_nulls():
            ipaddress.ip_address(value)
