"""Correlation rules in the detect stage: compile them per rule, with the Sigma → ECS field map.

The loader keeps correlation rules aside (status ``correlation``); here each one is
compiled by the correlation engine, so a correlation that cannot run is reported
with why (``invalid``) like any base rule, and the others still run. Group-by,
alias and value fields written with Sigma taxonomy names (``src_ip``, ``c-ip``,
``query`` …) are read from the ECS columns the base rules' pipelines map them to.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace

from sigma.correlations import SigmaCorrelationRule

from bastion.detect.correlation import CorrelationEngine, CorrelationRuleError, compile_rules
from bastion.detect.logsources import LOGSOURCES
from bastion.detect.rules import RuleReport, RuleStatus

log = logging.getLogger(__name__)


def correlation_field_map() -> dict[str, str]:
    """Map every Sigma taxonomy field a registered log source renames to its event column.

    A correlation's group-by names one field for every base rule it counts, so the map
    is the union of the log sources' mappings (the first log source to name a field wins;
    the registered ones agree wherever two name the same field).
    """
    mapping: dict[str, str] = {}
    for source in LOGSOURCES.values():
        for sigma_name, column in source.fields.items():
            mapping.setdefault(sigma_name, column)
    return mapping


def _label(rule: SigmaCorrelationRule) -> str | None:
    return str(rule.id) if rule.id else (str(rule.name) if rule.name else None)


def compile_correlations(
    correlations: Iterable[SigmaCorrelationRule],
) -> tuple[list[SigmaCorrelationRule], dict[int, str]]:
    """Split correlations into those the engine runs and, by ``id()``, why each other one does not.

    Each rule is compiled alone first (so one bad rule does not stop the others), then
    duplicates are set aside, then the survivors are compiled together (chains, cycles).
    """
    kept: list[SigmaCorrelationRule] = []
    failed: dict[int, str] = {}
    seen: set[str] = set()
    for rule in correlations:
        try:
            (spec,) = compile_rules([rule])
        except CorrelationRuleError as exc:
            failed[id(rule)] = str(exc)
            continue
        if spec.key in seen:
            failed[id(rule)] = f"a second correlation has the same identity {spec.key!r}"
            continue
        seen.add(spec.key)
        kept.append(rule)
    try:
        compile_rules(kept)
    except CorrelationRuleError as exc:
        failed.update({id(rule): str(exc) for rule in kept})
        kept = []
    return kept, failed


def build_engine(
    correlations: Sequence[SigmaCorrelationRule],
) -> tuple[CorrelationEngine | None, dict[int, str]]:
    """Build the correlation engine of the rules that compile; ``None`` when there are none."""
    kept, failed = compile_correlations(correlations)
    for rule in correlations:
        if id(rule) in failed:
            log.warning("correlation not run: %s: %s", _label(rule), failed[id(rule)])
    if not kept:
        return None, failed
    return CorrelationEngine(kept, field_map=correlation_field_map()), failed


def report_failures(
    correlations: Sequence[SigmaCorrelationRule],
    failed: dict[int, str],
    reports: list[RuleReport],
) -> list[RuleReport]:
    """Turn the ``correlation`` report of each correlation that does not compile into ``invalid``."""
    if not failed:
        return reports
    out = list(reports)
    for rule in correlations:
        why = failed.get(id(rule))
        if why is None:
            continue
        ident = str(rule.id) if rule.id else None
        path = str(rule.source.path) if rule.source is not None and rule.source.path else None
        for index, report in enumerate(out):
            if report.status is RuleStatus.CORRELATION and (
                report.path,
                report.id,
                report.title,
            ) == (path, ident, rule.title):
                out[index] = replace(report, status=RuleStatus.INVALID, reason=why)
                break
    return out
