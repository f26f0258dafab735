"""Run detection rules over a log file: parse it as the pipeline would, then explain each hit."""

from __future__ import annotations

from pathlib import Path

from bastion.boundary.lines import split_lines
from bastion.boundary.parsers import ParseContext, detect_format, get_parser
from bastion.core.errors import InputError, Location
from bastion.core.events import ARCHIVE_SCHEMA, conform
from bastion.detect import RuleSet, TestRun, find_matches


def run_log(rules: RuleSet, log: Path, fmt: str | None = None) -> TestRun:
    """Parse ``log`` (format ``fmt``, or detected) and explain every hit of ``rules`` in it."""
    try:
        data = log.read_bytes()
    except OSError as exc:
        msg = f"cannot read log file: {exc.strerror or exc}"
        raise InputError(msg, Location(file=str(log))) from exc
    lines = split_lines(data)
    parser = get_parser(fmt) if fmt else detect_format(lines.text.head(50).to_list(), str(log))
    parsed = parser.read(lines, ParseContext(source=str(log)))
    line_numbers = parsed.events.get_column("_line")
    events = conform(parsed.events, ARCHIVE_SCHEMA)
    matches = find_matches(rules, events, line_numbers)
    return TestRun(parser.name, events.height, parsed.rejects.height, matches)
