"""The rule workbench: run rules over a log file and say what matched and which selection fired."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from bastion.boundary.lines import split_lines
from bastion.boundary.parsers import ParseContext, detect_format, get_parser
from bastion.boundary.schema import ARCHIVE_SCHEMA, conform
from bastion.core.errors import InputError, Location
from bastion.detect.engine import ROW, RuleSet


@dataclass(frozen=True)
class Match:
    """One event a rule matched, with the selections that were true for it."""

    rule_id: str
    title: str
    line: int  # 1-based line number in the log file
    selections: tuple[str, ...]
    raw: str | None


@dataclass(frozen=True)
class TestRun:
    """What running rules over a log file found."""

    format: str
    events: int
    rejects: int
    matches: list[Match]


def explain(rules: RuleSet, events: pl.DataFrame) -> list[tuple[int, int, tuple[str, ...]]]:
    """Return (rule index, row, selections true) for every hit of ``rules`` in ``events``."""
    hits = rules.evaluate(events)
    found: list[tuple[int, int, tuple[str, ...]]] = []
    index = {r.id: i for i, r in enumerate(rules.rules)}
    for rule_id, part in hits.partition_by("rule.id", as_dict=True).items():
        i = index[str(rule_id[0])]
        rule = rules.rules[i]
        rows = part.get_column(ROW)
        names = list(rule.detection.selections)
        frame = rules.prepared(events, rule).select(
            [pl.col(ROW)] + [rule.detection.selections[n].alias(n) for n in names]
        )
        verdicts = frame.filter(pl.col(ROW).is_in(rows.implode()))
        for row in verdicts.iter_rows(named=True):
            found.append((i, int(row[ROW]), tuple(n for n in names if row[n])))
    return sorted(found, key=lambda t: (t[1], t[0]))


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
    matches = [
        Match(
            rule_id=rules.rules[i].id,
            title=rules.rules[i].title,
            line=int(line_numbers[row]) + 1,
            selections=selections,
            raw=events.get_column("event.original")[row],
        )
        for i, row, selections in explain(rules, events)
    ]
    return TestRun(parser.name, events.height, parsed.rejects.height, matches)
