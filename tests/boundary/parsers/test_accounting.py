"""Every registered parser accounts for every line, and no reject reason quotes a huge value.

Each line of a source is exactly one of: an event, a reject, or blank (blank lines and
a format's header lines, as ``Parser.count_blank`` counts them). The samples are the
real Zeek logs in ../shared/data (TSV, and the same logs as Zeek writes them in JSON)
and each parser's sample lines from its own tests, with blank lines and every sample
cut short at several points mixed in; both the line parser and the chunk reader are held
to it.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import polars as pl
import pytest
from tests.boundary.parsers import (
    test_cef,
    test_cisco_asa,
    test_ecs_json,
    test_fortigate,
    test_iptables,
    test_panos,
    test_squid,
    test_webaccess,
)
from tests.boundary.parsers.test_zeek_json import HEADER, LOGS, zeek_json

from bastion.boundary.lines import split_lines
from bastion.boundary.parsers import PARSERS, ParseContext, ParseResult, get_parser
from bastion.boundary.parsers.base import REASON_VALUE_CHARS
from bastion.core.events import LINE_COLUMN

BLANKS = ["", " ", "\t", "  \t  "]
SAMPLES: dict[str, list[str]] = {
    "cef": [test_cef.PROXY, test_cef.ESCAPED],
    "cisco-asa": [
        test_cisco_asa.BUILT_OUT,
        test_cisco_asa.TEARDOWN_TCP,
        test_cisco_asa.DENY_ACL,
        test_cisco_asa.ACL_DENIED,
        test_cisco_asa.FTD_BUILT,
    ],
    "ecs": [test_ecs_json.NESTED, test_ecs_json.FLAT],
    "fortigate": [
        test_fortigate.TRAFFIC,
        test_fortigate.LOCAL_DENY,
        test_fortigate.WEBFILTER,
        test_fortigate.DNS,
    ],
    "iptables": [test_iptables.DROP_SSH, test_iptables.ACCEPT_PING],
    "panos": [test_panos.TRAFFIC, test_panos.URL, test_panos.VIRUS],
    "squid": [test_squid.MISS, test_squid.DENIED_CONNECT, test_squid.ERROR],
    "nginx": [test_webaccess.COMBINED, test_webaccess.COMMON, test_webaccess.DASH_REQUEST],
}
REAL_ZEEK = ["dns", "ssl", "x509", "notice", "weird"]


def real_zeek(shared_data: Path, name: str, limit: int = 3000) -> list[str]:
    with gzip.open(shared_data / "zeek" / f"{name}.log.gz", "rt", encoding="utf-8") as handle:
        return handle.read().splitlines()[:limit]


def samples(fmt: str, shared_data: Path) -> list[str]:
    """Return real sample lines of ``fmt``: whole logs for Zeek, sample lines otherwise."""
    if fmt == "zeek":
        logs = [real_zeek(shared_data, name) for name in REAL_ZEEK]
        logs += [(HEADER + log).splitlines() for log in LOGS.values()]
        return [line for log in logs for line in log]
    if fmt == "zeek-json":
        logs = [zeek_json(real_zeek(shared_data, name), path=True) for name in REAL_ZEEK]
        logs += [zeek_json((HEADER + log).splitlines(), path=True) for log in LOGS.values()]
        return [line for log in logs for line in log]
    return SAMPLES[fmt]


def cut_short(lines: list[str]) -> list[str]:
    """Return each data line cut at a quarter, a half, three quarters and one character short."""
    data = [line for line in lines if line.strip() and not line.startswith("#")]
    return [
        line[: int(len(line) * share)]
        for line in data[:40]
        for share in (0.25, 0.5, 0.75, (len(line) - 1) / len(line))
    ]


def mixed(lines: list[str]) -> list[str]:
    """Interleave blank lines and cut-short lines with ``lines`` (a header stays in front)."""
    out = []
    for index, line in enumerate(lines):
        out.append(line)
        if index % 7 == 3:
            out.append(BLANKS[index % len(BLANKS)])
    return out + BLANKS + cut_short(lines)


def assert_every_line_once(parser_name: str, lines: list[str], result: ParseResult) -> None:
    parser = get_parser(parser_name)
    seen = [*result.events.get_column(LINE_COLUMN), *result.rejects.get_column(LINE_COLUMN)]
    assert len(seen) == len(set(seen)), "a line is both an event and a reject, or twice one"
    blank = parser.count_blank(pl.Series(lines, dtype=pl.String))
    prefix = parser.header_prefix
    expected = [
        i
        for i, line in enumerate(lines)
        if line.strip(" \t") and not (prefix and line.startswith(prefix))
    ]
    assert sorted(seen) == expected
    assert len(lines) == result.events.height + result.rejects.height + blank


def test_every_registered_parser_has_samples() -> None:
    assert set(PARSERS) == {*SAMPLES, "zeek", "zeek-json"}


@pytest.mark.parametrize("fmt", sorted(PARSERS))
def test_lines_are_events_rejects_or_blank_in_the_line_parser(fmt: str, shared_data: Path) -> None:
    lines = mixed(samples(fmt, shared_data))
    result = get_parser(fmt).parse(pl.Series(lines, dtype=pl.String), ParseContext())
    assert result.events.height > 0
    assert result.rejects.height > 0  # the cut-short lines
    assert_every_line_once(fmt, lines, result)


@pytest.mark.parametrize("fmt", sorted(PARSERS))
def test_lines_are_events_rejects_or_blank_in_the_chunk_reader(fmt: str, shared_data: Path) -> None:
    lines = mixed(samples(fmt, shared_data))
    chunk = split_lines("".join(f"{line}\n" for line in lines).encode())
    result = get_parser(fmt).read(chunk, ParseContext())
    assert_every_line_once(fmt, lines, result)


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_a_chunk_starting_with_a_cut_short_line_is_read(fmt: str) -> None:
    lines = [*cut_short(SAMPLES[fmt])[:2], *SAMPLES[fmt]]
    chunk = split_lines("".join(f"{line}\n" for line in lines).encode())
    assert_every_line_once(fmt, lines, get_parser(fmt).read(chunk, ParseContext()))


_TOKEN = re.compile(r"[A-Za-z0-9./:_-]+")


def with_huge_values(line: str, size: int = 5000) -> list[str]:
    """Return ``line`` once per token (up to 90), that token replaced by ``size`` characters."""
    tokens = list(_TOKEN.finditer(line))[:90]
    return [line[: t.start()] + "9x" * (size // 2) + line[t.end() :] for t in tokens]


@pytest.mark.parametrize("fmt", sorted(PARSERS))
def test_reject_reasons_quote_at_most_a_capped_value(fmt: str, shared_data: Path) -> None:
    base = samples(fmt, shared_data)
    header = [line for line in base if line.startswith("#")][:10]
    data = [line for line in base if line.strip() and not line.startswith("#")][:6]
    lines = header + [huge for line in data for huge in with_huge_values(line)]
    result = get_parser(fmt).parse(pl.Series(lines, dtype=pl.String), ParseContext())
    assert result.rejects.height > 0
    longest = result.rejects.get_column("reason").str.len_chars().max()
    assert isinstance(longest, int)
    assert longest < REASON_VALUE_CHARS * 2 + 300, result.rejects.sort(
        pl.col("reason").str.len_chars()
    ).tail(1)["reason"][0][:400]


def test_clip_keeps_short_values_and_says_the_size_of_long_ones() -> None:
    from bastion.boundary.parsers.base import clip

    values = pl.Series(["short", "é" * 300, None], dtype=pl.String)
    clipped = values.to_frame("v").select(clip(pl.col("v"))).to_series().to_list()
    assert clipped[0] == "short"
    assert clipped[1] == "é" * REASON_VALUE_CHARS + "…(600 bytes)"
    assert clipped[2] is None
