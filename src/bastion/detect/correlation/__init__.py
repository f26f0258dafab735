"""Sigma correlation rules over the stream of base-rule hits: sliding windows across batches."""

from bastion.detect.correlation.candidates import correlation_candidates
from bastion.detect.correlation.engine import (
    EVIDENCE_LIMIT,
    FIRING_SCHEMA,
    CorrelationEngine,
    CorrelationState,
    ProcessStats,
    empty_firings,
)
from bastion.detect.correlation.rules import (
    CorrelationRuleError,
    CorrelationSpec,
    compile_rules,
    load_correlation_rules,
    parse_correlation_rules,
)
from bastion.detect.correlation.state import LoadReport, load, save

__all__ = [
    "EVIDENCE_LIMIT",
    "FIRING_SCHEMA",
    "CorrelationEngine",
    "CorrelationRuleError",
    "CorrelationSpec",
    "CorrelationState",
    "LoadReport",
    "ProcessStats",
    "compile_rules",
    "correlation_candidates",
    "empty_firings",
    "load",
    "load_correlation_rules",
    "parse_correlation_rules",
    "save",
]
