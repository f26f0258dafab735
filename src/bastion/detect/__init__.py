"""Sigma detection: rules loaded with pySigma, compiled to vectorised Polars predicates.

``load_ruleset(paths)`` reads rule files and folders (rules, correlation rules and
filters), maps Sigma's taxonomy onto Bastion's event schema and compiles each rule
(correlation rules by the correlation engine, ``bastion.detect.correlation``);
``RuleSet.evaluate(events)`` returns the hits of a batch; ``Detector`` turns them, and
the correlations they make fire, into alert candidates for the boundary pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from bastion.detect.builtin import (
    BUILTIN_CHECKS,
    BUILTIN_IDS,
    LIMIT_COLUMN,
    BuiltinCheck,
    CheckThresholds,
    Limits,
    Threshold,
    builtin_rule_id,
    check_threshold,
    drop_disabled_checks,
)
from bastion.detect.catalogue import (
    CORRELATION,
    LEVELS,
    RULE,
    Catalogue,
    CatalogueEntry,
    RuleCatalogue,
    build_catalogue,
)
from bastion.detect.correlation import (
    CorrelationEngine,
    CorrelationRuleError,
    CorrelationState,
    correlation_candidates,
)
from bastion.detect.correlation_compiler import (
    build_engine,
    compile_correlations,
    correlation_field_map,
    report_failures,
)
from bastion.detect.detector import (
    KEY_PREFIX,
    Detector,
    RuleSetting,
    Tuning,
    alert_key,
    load_tuning,
    require_rule,
    rule_settings,
    set_enabled,
    tune_rule,
)
from bastion.detect.engine import HIT_SCHEMA, RuleSet, empty_hits
from bastion.detect.loader import Loaded, load_rules, load_texts, rule_files
from bastion.detect.logsources import LOGSOURCES, LogSource, processing_pipeline
from bastion.detect.rules import LEVEL_SEVERITY, Rule, RuleReport, RuleStatus
from bastion.detect.thresholds import (
    ThresholdSetting,
    ThresholdView,
    load_thresholds,
    threshold_settings,
    threshold_views,
    thresholds_of,
    tune_threshold,
)
from bastion.detect.workbench import Match, TestRun, explain, find_matches


def load_ruleset(
    paths: Iterable[Path], *, placeholders: Mapping[str, Sequence[str]] | None = None
) -> RuleSet:
    """Load, validate and compile every Sigma rule under ``paths`` into a rule set.

    Correlation rules the correlation engine cannot run are reported ``invalid`` with why
    and left out of ``RuleSet.correlations``.
    """
    loaded = load_rules(paths, placeholders=placeholders)
    kept, failed = compile_correlations(loaded.correlations)
    reports = report_failures(loaded.correlations, failed, loaded.reports)
    return RuleSet(loaded.rules, kept, reports)


__all__ = [
    "BUILTIN_CHECKS",
    "BUILTIN_IDS",
    "CORRELATION",
    "HIT_SCHEMA",
    "KEY_PREFIX",
    "LEVELS",
    "LEVEL_SEVERITY",
    "LIMIT_COLUMN",
    "LOGSOURCES",
    "RULE",
    "BuiltinCheck",
    "Catalogue",
    "CatalogueEntry",
    "CheckThresholds",
    "CorrelationEngine",
    "CorrelationRuleError",
    "CorrelationState",
    "Detector",
    "Limits",
    "Loaded",
    "LogSource",
    "Match",
    "Rule",
    "RuleCatalogue",
    "RuleReport",
    "RuleSet",
    "RuleSetting",
    "RuleStatus",
    "TestRun",
    "Threshold",
    "ThresholdSetting",
    "ThresholdView",
    "Tuning",
    "alert_key",
    "build_catalogue",
    "build_engine",
    "builtin_rule_id",
    "check_threshold",
    "compile_correlations",
    "correlation_candidates",
    "correlation_field_map",
    "drop_disabled_checks",
    "empty_hits",
    "explain",
    "find_matches",
    "load_rules",
    "load_ruleset",
    "load_texts",
    "load_thresholds",
    "load_tuning",
    "processing_pipeline",
    "report_failures",
    "require_rule",
    "rule_files",
    "rule_settings",
    "set_enabled",
    "threshold_settings",
    "threshold_views",
    "thresholds_of",
    "tune_rule",
    "tune_threshold",
]
