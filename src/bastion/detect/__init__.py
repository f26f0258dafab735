"""Sigma detection: rules loaded with pySigma, compiled to vectorised Polars predicates.

``load_ruleset(paths)`` reads rule files and folders (rules, correlation rules and
filters), maps Sigma's taxonomy onto Bastion's event schema and compiles each rule;
``RuleSet.evaluate(events)`` returns the hits of a batch; ``Detector`` turns them into
alert candidates for the boundary pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from bastion.detect.engine import HIT_SCHEMA, RuleSet, empty_hits
from bastion.detect.loader import Loaded, load_rules, load_texts, rule_files
from bastion.detect.logsources import LOGSOURCES, LogSource, processing_pipeline
from bastion.detect.rules import LEVEL_SEVERITY, Rule, RuleReport, RuleStatus


def load_ruleset(
    paths: Iterable[Path], *, placeholders: Mapping[str, Sequence[str]] | None = None
) -> RuleSet:
    """Load, validate and compile every Sigma rule under ``paths`` into a rule set."""
    loaded = load_rules(paths, placeholders=placeholders)
    return RuleSet(loaded.rules, loaded.correlations, loaded.reports)


__all__ = [
    "HIT_SCHEMA",
    "LEVEL_SEVERITY",
    "LOGSOURCES",
    "Loaded",
    "LogSource",
    "Rule",
    "RuleReport",
    "RuleSet",
    "RuleStatus",
    "empty_hits",
    "load_rules",
    "load_ruleset",
    "load_texts",
    "processing_pipeline",
    "rule_files",
]
