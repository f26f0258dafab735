"""Helpers for detect tests: a rule from a detection in YAML, and the rows it matches."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

import polars as pl
import pytest

from bastion.core.events import ARCHIVE_SCHEMA
from bastion.detect import RuleSet, load_texts

RULE_ID = "11111111-2222-3333-4444-555555555555"


def rule_yaml(detection: str, logsource: str = "category: proxy", **extra: str) -> str:
    """A whole Sigma rule around ``detection`` (YAML under ``detection:``)."""
    lines = [
        "title: Test rule",
        f"id: {RULE_ID}",
        "status: test",
        "level: high",
        "tags:\n  - attack.command-and-control\n  - attack.t1071.001",
        "logsource:",
        textwrap.indent(textwrap.dedent(logsource).strip(), "  "),
        "detection:",
        textwrap.indent(textwrap.dedent(detection).strip(), "  "),
    ]
    lines.extend(f"{k}: {v}" for k, v in extra.items())
    return "\n".join(lines) + "\n"


def ruleset(*texts: str, placeholders: dict[str, list[str]] | None = None) -> RuleSet:
    loaded = load_texts(
        [(f"rule{i}.yml", t) for i, t in enumerate(texts)], placeholders=placeholders
    )
    return RuleSet(loaded.rules, loaded.correlations, loaded.reports)


def events(rows: list[dict[str, Any]], dataset: str = "squid.access") -> pl.DataFrame:
    """A batch in the archive schema; each row's missing fields are null."""
    filled = [{"event.dataset": dataset, **row} for row in rows]
    names = sorted({k for row in filled for k in row})
    schema = {k: ARCHIVE_SCHEMA[k] for k in names if k in ARCHIVE_SCHEMA}
    return pl.DataFrame(filled, schema=schema)


def matched(rules: RuleSet, batch: pl.DataFrame) -> list[int]:
    return sorted(rules.evaluate(batch).get_column("row").to_list())


@pytest.fixture
def match() -> Callable[..., list[int]]:
    """Compile a detection and return the rows of ``rows`` it matches."""

    def run(
        detection: str,
        rows: list[dict[str, Any]],
        *,
        logsource: str = "category: proxy",
        dataset: str = "squid.access",
        placeholders: dict[str, list[str]] | None = None,
    ) -> list[int]:
        rules = ruleset(rule_yaml(detection, logsource), placeholders=placeholders)
        assert [r.status.value for r in rules.reports] == ["compiled"], rules.reports
        return matched(rules, events(rows, dataset))

    return run


class Kit:
    """The helpers above, handed to tests as one fixture."""

    rule_yaml = staticmethod(rule_yaml)
    ruleset = staticmethod(ruleset)
    events = staticmethod(events)
    matched = staticmethod(matched)
    RULE_ID = RULE_ID


@pytest.fixture
def kit() -> type[Kit]:
    return Kit
