"""Read indicator files: a simple CSV or JSON, all or nothing.

CSV: a header row naming the columns ``value`` (required), ``type`` (inferred from
the value when absent or empty), ``source``, ``severity``, ``confidence``,
``action``, ``threat``, ``tags`` (separated by ``;`` or ``,``), ``first_seen``,
``last_seen`` and ``valid_until`` (ISO 8601; a date alone means midnight UTC) and
``tlp`` (CLEAR, GREEN, AMBER, AMBER+STRICT, RED; AMBER when absent).
Lines starting with ``#`` are comments. JSON: a list of objects with the same
keys, or ``{"indicators": [...]}``.

Every row is checked before any is returned: the first bad one raises InputError
with the file, the line (CSV) or item (JSON) and the field.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bastion.core.documents import load_json
from bastion.core.errors import FormatError, InputError, Location
from bastion.core.types import Severity, Tlp
from bastion.intel.indicator import (
    Action,
    Indicator,
    IndicatorType,
    infer_type,
    parse_action,
    parse_severity,
    parse_tlp,
)

COLUMNS = (
    "type",
    "value",
    "source",
    "severity",
    "confidence",
    "action",
    "threat",
    "tags",
    "first_seen",
    "last_seen",
    "valid_until",
    "tlp",
)

Where = Callable[[str], Location]


def _text(record: Mapping[str, Any], name: str) -> str:
    value = record.get(name)
    return "" if value is None else str(value).strip()


def _moment(text: str, where: Location) -> datetime | None:
    if not text:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        msg = f"invalid date {text!r}: expected ISO 8601, like 2025-06-30 or 2025-06-30T12:00:00Z"
        raise InputError(msg, where) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _tags(value: Any, where: Location) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        if not all(isinstance(t, str) for t in value):
            msg = "tags must be strings"
            raise InputError(msg, where)
        return tuple(value)
    return tuple(t for t in re.split(r"[;,]", str(value)) if t.strip())


def _confidence(text: str, where: Location) -> int:
    if not text:
        return 50
    try:
        return int(text)
    except ValueError:
        msg = f"confidence must be a whole number 0-100, got {text!r}"
        raise InputError(msg, where) from None


def _indicator(record: Mapping[str, Any], where: Where, default_source: str) -> Indicator:
    """Build one indicator from a row or object; raise InputError naming the field."""
    unknown = sorted(set(record) - set(COLUMNS))
    if unknown:
        msg = f"unknown field(s) {', '.join(map(repr, unknown))}; expected {', '.join(COLUMNS)}"
        raise InputError(msg, where(unknown[0]))
    value = _text(record, "value")
    if not value:
        msg = "value is empty"
        raise InputError(msg, where("value"))
    try:
        kind_text = _text(record, "type")
        kind = IndicatorType.parse(kind_text) if kind_text else infer_type(value)
        severity = _text(record, "severity")
        action = _text(record, "action")
        tlp = _text(record, "tlp")
        return Indicator(
            type=kind,
            value=value,
            source=_text(record, "source") or default_source,
            severity=parse_severity(severity) if severity else Severity.MEDIUM,
            confidence=_confidence(_text(record, "confidence"), where("confidence")),
            action=parse_action(action) if action else Action.ALERT,
            threat=_text(record, "threat"),
            tags=_tags(record.get("tags"), where("tags")),
            first_seen=_moment(_text(record, "first_seen"), where("first_seen")),
            last_seen=_moment(_text(record, "last_seen"), where("last_seen")),
            valid_until=_moment(_text(record, "valid_until"), where("valid_until")),
            tlp=parse_tlp(tlp) if tlp else Tlp.AMBER,
        )
    except InputError as exc:
        field = exc.location.field or "value"
        location = exc.location if exc.location.file else where(field)
        raise InputError(exc.reason, location) from None


def read_indicators_csv(text: str, path: str, default_source: str) -> list[Indicator]:
    """Parse indicator CSV text; raise InputError at the first bad row."""
    # Blank out comment lines rather than drop them, so line numbers stay true.
    lines = ["" if line.lstrip().startswith("#") else line for line in text.splitlines()]
    skipped = next((n for n, line in enumerate(lines) if line.strip()), len(lines))
    reader = csv.DictReader(io.StringIO("\n".join(lines[skipped:])))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        if not header:
            msg = "file has no header row"
            raise FormatError(msg, Location(path, 1))
        if "value" not in header:
            msg = f"no 'value' column; the header names {', '.join(header)}"
            raise FormatError(msg, Location(path, skipped + reader.line_num))
        reader.fieldnames = header
        found = []
        for row in reader:
            line = skipped + reader.line_num
            if None in row:
                msg = f"{len(header) + len(row[None])} cells for {len(header)} columns"
                raise InputError(msg, Location(path, line))
            found.append(_indicator(row, partial(Location, path, line), default_source))
    except csv.Error as exc:
        msg = f"malformed CSV: {exc}"
        raise FormatError(msg, Location(path, skipped + reader.line_num)) from None
    return found


def _item_location(path: str, number: int) -> Where:
    def where(field: str) -> Location:
        return Location(path, field=f"indicators[{number}].{field}")

    return where


def read_indicators_json(text: str, path: str, default_source: str) -> list[Indicator]:
    """Parse indicator JSON text; raise InputError at the first bad item."""
    data = load_json(text, where=path)
    items = data.get("indicators") if isinstance(data, dict) else data
    if not isinstance(items, list):
        msg = 'expected a list of indicators or {"indicators": [...]}'
        raise FormatError(msg, Location(path))
    found = []
    for number, item in enumerate(items):
        if not isinstance(item, dict):
            msg = f"item is a {type(item).__name__}, not an object"
            raise InputError(msg, Location(path, field=f"indicators[{number}]"))
        found.append(_indicator(item, _item_location(path, number), default_source))
    return found


def load_indicator_file(path: Path, *, source: str | None = None) -> list[Indicator]:
    """Read indicators from a CSV or JSON file, all or nothing; raise InputError at a bad row.

    Rows without a source get ``source``, or else the file's name without extension.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read file: {exc}"
        raise InputError(msg, Location(str(path))) from None
    default = source or path.stem
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{")):
        return read_indicators_json(text, str(path), default)
    return read_indicators_csv(text, str(path), default)
