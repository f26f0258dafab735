"""Golden-file cases: real-shaped lines of a format and the exact event each must give.

``golden/<format>/<name>.log`` holds the lines; ``<name>.expected.jsonl`` holds, one
JSON object per line in the same order, either ``{"reject": reason}`` or the event's
every non-null field but ``event.original`` (times as ISO 8601 text in UTC). A field
absent from the object must be null, so a field mapped where it should not be fails too.
``BASTION_REGEN_GOLDEN=1`` rewrites the expected files from the parser (review the diff).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from bastion.boundary.parsers import ParseContext, get_parser
from bastion.core.events import LINE_COLUMN

GOLDEN = Path(__file__).parent / "golden"


def cases(fmt: str) -> list[Path]:
    """Return the ``.log`` files of one format's golden cases."""
    return sorted((GOLDEN / fmt).glob("*.log"))


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def actual(fmt: str, log: Path, ctx: ParseContext) -> list[dict[str, Any]]:
    """Parse a golden file and describe each line as its expected file does."""
    lines = log.read_text(encoding="utf-8").splitlines()
    result = get_parser(fmt).parse(pl.Series(lines, dtype=pl.String), ctx)
    out: list[dict[str, Any]] = [{} for _ in lines]
    for index, reason in result.rejects.iter_rows():
        out[index] = {"reject": reason}
    for event in result.events.iter_rows(named=True):
        index = event.pop(LINE_COLUMN)
        assert event.pop("event.original") == lines[index]
        out[index] = {k: _plain(v) for k, v in event.items() if v is not None}
    return out


def check(fmt: str, log: Path, ctx: ParseContext) -> None:
    """Assert that every line of ``log`` gives exactly its expected event or reject."""
    expected_path = log.with_suffix(".expected.jsonl")
    got = actual(fmt, log, ctx)
    if os.environ.get("BASTION_REGEN_GOLDEN"):
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in got)
        expected_path.write_text(text, encoding="utf-8")
    expected = [json.loads(line) for line in expected_path.read_text(encoding="utf-8").splitlines()]
    assert len(expected) == len(got), f"{log.name}: {len(got)} lines, {len(expected)} expected"
    for number, (want, have) in enumerate(zip(expected, got, strict=True), start=1):
        assert have == want, f"{log.name} line {number}"
