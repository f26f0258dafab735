"""The rule workbench: run rules over parsed events and say what matched and which selection fired."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

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


def find_matches(rules: RuleSet, events: pl.DataFrame, lines: pl.Series) -> list[Match]:
    """Return every hit of ``rules`` in ``events``, each with the selections that were true.

    ``lines`` holds each event's 0-based line index in its log file.
    """
    return [
        Match(
            rule_id=rules.rules[i].id,
            title=rules.rules[i].title,
            line=int(lines[row]) + 1,
            selections=selections,
            raw=events.get_column("event.original")[row],
        )
        for i, row, selections in explain(rules, events)
    ]
