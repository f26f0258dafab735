"""Sigma correlation rules over the stream of base-rule hits: sliding windows across batches."""

from bastion.detect.correlation.engine import (
    EVIDENCE_LIMIT,
    FIRING_SCHEMA,
    CorrelationEngine,
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

__all__ = [
    "EVIDENCE_LIMIT",
    "FIRING_SCHEMA",
    "CorrelationEngine",
    "CorrelationRuleError",
    "CorrelationSpec",
    "ProcessStats",
    "compile_rules",
    "empty_firings",
    "load_correlation_rules",
    "parse_correlation_rules",
]
