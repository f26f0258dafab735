"""Golden files: real-shaped lines of each format and every field they map, written by hand.

Each ``golden/<format>/lines.log`` holds lines of one format (each record type and
each variant the parser claims, then lines it must reject); ``expected.json`` says,
for every event, the value of every field that is not null (``@timestamp`` in ISO
8601, ``event.original`` left out: it is the line itself) and, for every rejected
line, its reason. A field the parser fills but the file does not list fails the test,
as does a listed field it leaves null.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from bastion.boundary.parsers import ParseContext, get_parser
from bastion.core.events import EVENT_SCHEMA, LINE_COLUMN

GOLDEN = Path(__file__).parent / "golden"
FORMATS = {"asa": "cisco-asa", "iptables": "iptables", "webaccess": "nginx", "squid": "squid"}


def actual(fmt: str, lines: list[str]) -> dict[str, object]:
    """Return the parse of ``lines`` as ``expected.json`` writes it."""
    result = get_parser(fmt).parse(
        pl.Series(lines, dtype=pl.String), ParseContext(source="golden", default_year=2025)
    )
    events = []
    for row in result.events.sort(LINE_COLUMN).iter_rows(named=True):
        assert row.pop("event.original") == lines[row[LINE_COLUMN]]
        if row["@timestamp"] is not None:
            row["@timestamp"] = row["@timestamp"].isoformat()
        events.append({k: v for k, v in row.items() if v is not None})
    rejects = {str(i): reason for i, reason in result.rejects.sort(LINE_COLUMN).iter_rows()}
    return {"events": events, "rejects": rejects}


@pytest.mark.parametrize("directory", sorted(FORMATS))
def test_every_mapped_field_of_every_golden_line(directory: str) -> None:
    lines = (GOLDEN / directory / "lines.log").read_text(encoding="utf-8").splitlines()
    expected = json.loads((GOLDEN / directory / "expected.json").read_text(encoding="utf-8"))
    got = actual(FORMATS[directory], lines)
    assert set(got["rejects"]) == set(expected["rejects"])
    assert got["rejects"] == expected["rejects"]
    assert [e[LINE_COLUMN] for e in got["events"]] == [e[LINE_COLUMN] for e in expected["events"]]
    for want, have in zip(expected["events"], got["events"], strict=True):
        assert set(want) <= {*EVENT_SCHEMA, LINE_COLUMN}, "a golden field not in the schema"
        assert have == want, f"line {want[LINE_COLUMN]}: {lines[want[LINE_COLUMN]]}"
