"""Plain lists: one value per line (Spamhaus DROP style), or CSV with a chosen column (abuse.ch).

One value per line: ``#`` and ``;`` start comments, also after a value
(``192.0.2.0/24 ; SBL123``); each value's type is inferred. CSV: ``column`` names
the value's column by header name or 1-based number; a header line may be
commented out with ``#`` (as abuse.ch publishes it). A bad line is skipped and
reported; the rest is kept.
"""

from __future__ import annotations

import csv
import io
import re

from bastion.core.errors import InputError
from bastion.intel.feeds.base import FeedOptions, Parsed, make_indicator
from bastion.intel.feeds.http import document_feed
from bastion.intel.indicator import infer_type

_COMMENT = re.compile(r"\s*[#;].*$")


def _text(content: bytes, where: str, parsed: Parsed) -> str | None:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        parsed.skip(where, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        return None


def read_plain(content: bytes, options: FeedOptions, where: str) -> Parsed:
    """Read one value per line; comments and blank lines are ignored."""
    parsed = Parsed()
    text = _text(content, where, parsed)
    for number, line in enumerate((text or "").splitlines(), start=1):
        value = _COMMENT.sub("", line).strip()
        if not value:
            continue
        if len(value.split()) > 1:
            parsed.skip(f"{where} line {number}", "more than one value on the line")
            continue
        try:
            parsed.indicators.append(make_indicator(options, type=infer_type(value), value=value))
        except InputError as exc:
            parsed.skip(f"{where} line {number}", exc.reason)
    return parsed


def _column(header: list[str], wanted: str, where: str) -> int:
    if wanted.isdigit() and int(wanted) >= 1:
        return int(wanted) - 1
    names = [h.strip().lower() for h in header]
    if wanted.strip().lower() not in names:
        msg = f"{where}: no column {wanted!r}; the header names {', '.join(names) or 'nothing'}"
        raise InputError(msg)
    return names.index(wanted.strip().lower())


def read_csv(content: bytes, options: FeedOptions, where: str) -> Parsed:
    """Read the chosen column of a CSV (see the module docstring)."""
    parsed = Parsed()
    if not options.column:
        msg = "a csv feed needs the column holding the value: set the option column"
        raise InputError(msg)
    text = _text(content, where, parsed) or ""
    lines = text.splitlines()
    by_name = not options.column.isdigit() or bool(
        options.threat_column and not options.threat_column.isdigit()
    )
    header: list[str] = []
    start = 0
    if by_name:
        # The header is the first line naming the column, commented out or not.
        for number, line in enumerate(lines):
            cells = next(csv.reader([line.lstrip("#").strip()]), [])
            if options.column.strip().lower() in (c.strip().lower() for c in cells):
                header, start = cells, number + 1
                break
        else:
            msg = f"{where}: no header line names the column {options.column!r}"
            raise InputError(msg)
    value_at = _column(header, options.column, where)
    threat_at = _column(header, options.threat_column, where) if options.threat_column else None
    reader = csv.reader(io.StringIO("\n".join(lines[start:])))
    try:
        for offset, row in enumerate(reader):
            number = start + offset + 1
            if not row or row[0].lstrip().startswith("#"):
                continue
            if value_at >= len(row):
                parsed.skip(f"{where} line {number}", f"{len(row)} cells, no column {value_at + 1}")
                continue
            value = row[value_at].strip()
            threat = (
                row[threat_at].strip() if threat_at is not None and threat_at < len(row) else None
            )
            try:
                parsed.indicators.append(
                    make_indicator(
                        options, type=infer_type(value), value=value, threat=threat or None
                    )
                )
            except InputError as exc:
                parsed.skip(f"{where} line {number}", exc.reason)
    except csv.Error as exc:
        parsed.skip(f"{where} line {start + reader.line_num}", f"malformed CSV: {exc}")
    return parsed


def _looks_plain(content: bytes) -> bool:
    head = content[:4096].decode("utf-8", "replace")
    values = [_COMMENT.sub("", line).strip() for line in head.splitlines()]
    values = [v for v in values if v]
    single = [len(v.split()) == 1 and "," not in v for v in values[:20]]
    # The first value and most of the others are one token each: a list, bad lines aside.
    return bool(single) and single[0] and sum(single) >= len(single) / 2


PLAIN = document_feed(
    "plain",
    "one value per line (IPs, CIDRs, domains, URLs, hashes); # and ; comments",
    read_plain,
    detect=_looks_plain,
)
CSV = document_feed(
    "csv", "CSV with the value in a chosen column (option column: name or number)", read_csv
)
