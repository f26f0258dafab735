"""PAN-OS golden file: every mapped field of real-shaped records, through both readers."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from bastion.boundary.lines import split_lines
from bastion.boundary.parsers import ParseContext, ParseResult, get_parser
from bastion.core.events import EVENT_SCHEMA, LINE_COLUMN

GOLDEN = Path(__file__).parent / "golden" / "panos"
DATA = (GOLDEN / "records.log").read_bytes()
LINES = DATA.decode().splitlines()
EXPECTED: list[dict[str, Any]] = json.loads((GOLDEN / "expected.json").read_text())


def _context() -> ParseContext:
    return ParseContext(source="golden/panos", default_year=2025, timezone="America/New_York")


def _by_line(result: ParseResult) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for row in result.events.iter_rows(named=True):
        out[row.pop(LINE_COLUMN)] = row
    for index, reason in result.rejects.iter_rows():
        out[index] = {"reason": reason}
    return out


def _expected_row(index: int) -> dict[str, Any]:
    want = dict(EXPECTED[index])
    if "reason" in want:
        return want
    want["@timestamp"] = datetime.fromisoformat(want["@timestamp"])
    return {**dict.fromkeys(EVENT_SCHEMA), **want, "event.original": LINES[index]}


@pytest.mark.parametrize("reader", ["lines", "chunk"])
def test_every_golden_record_maps_every_field(reader: str) -> None:
    parser = get_parser("panos")
    if reader == "lines":
        result = parser.parse(pl.Series(LINES, dtype=pl.String), _context())
    else:
        result = parser.read(split_lines(DATA), _context())
    got = _by_line(result)
    assert sorted(got) == list(range(len(LINES)))
    assert len(EXPECTED) == len(LINES)
    for index in range(len(LINES)):
        assert got[index] == _expected_row(index), f"line {index + 1}: {LINES[index][:80]}"


def test_golden_covers_each_record_kind() -> None:
    datasets = {row.get("event.dataset") for row in EXPECTED}
    assert datasets >= {"panos.traffic", "panos.threat", "panos.system"}
    reasons = {row["reason"].split(" records")[0] for row in EXPECTED if "reason" in row}
    assert reasons == {
        f"panos: PAN-OS {kind}"
        for kind in ("SYSTEM", "CONFIG", "HIP-MATCH", "GLOBALPROTECT", "USERID")
    }
