"""Correlation rules in: parse with pySigma, check, and compile to plain specs the engine runs.

pySigma parses the YAML; this module turns each ``SigmaCorrelationRule`` into a
frozen ``CorrelationSpec`` holding only what evaluation needs, resolves chained
references (a correlation naming another correlation) and orders the specs so
every correlation comes after the ones it refers to.

Two things the Sigma specification allows that pySigma 2.0 does not parse are
handled on the way in by ``parse_correlation_rules``: a *range* condition
(``gt: 100`` and ``lte: 200`` in one map) is kept whole under the private key
``bastion-range`` of the correlation section, and the first bound is handed to
pySigma so that it accepts the rule.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationRule,
    SigmaCorrelationType,
)
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from bastion.core.errors import InputError, Location

RANGE_KEY = "bastion-range"
OPERATORS = ("gt", "gte", "lt", "lte", "eq", "neq")

# The types of the Sigma correlation specification v2.1 (value_median: pySigma's extra).
COUNTING = {"event_count", "value_count", "temporal", "temporal_ordered"}
METRIC = {"value_sum", "value_avg", "value_percentile", "value_median"}
TYPES = COUNTING | METRIC


class CorrelationRuleError(InputError):
    """A correlation rule cannot be run; the message says which rule and why."""


@dataclass(frozen=True)
class Bound:
    """One comparison of the condition: ``value <op> threshold``."""

    op: str
    threshold: float


@dataclass(frozen=True)
class Reference:
    """One rule a correlation refers to, as written, and how a hit is recognised as its."""

    reference: str
    ids: tuple[str, ...]  # hit `rule.id` values that are this rule
    names: tuple[str, ...]  # hit `rule.name` values that are this rule
    correlation: str | None = None  # key of the referenced correlation, when chained


@dataclass(frozen=True)
class CorrelationSpec:
    """One correlation rule, ready to evaluate."""

    key: str  # unique: the id, else the name, else the title
    id: str | None
    name: str | None
    title: str
    level: str | None
    type: str
    references: tuple[Reference, ...]
    group_by: tuple[str, ...]
    # alias -> (reference of a rule, by name or id) -> field in that rule's events
    aliases: Mapping[str, Mapping[str, str]]
    timespan: timedelta
    bounds: tuple[Bound, ...]
    fields: tuple[str, ...]  # the value field(s) of value_* types
    percentile: float | None  # value_percentile with `percentile:`; value_median is 50
    generate: bool
    fingerprint: str  # changes when the rule's definition changes
    tags: tuple[str, ...] = field(default=())

    @property
    def numeric(self) -> bool:
        """Tell whether the value field is aggregated as a number (sum, average, percentile)."""
        return self.type in METRIC and not self.value_share

    @property
    def value_share(self) -> bool:
        """value_percentile without ``percentile``: the share (%) of the group's events with a value."""
        return self.type == "value_percentile" and self.percentile is None

    def group_field(self, group: str, reference: Reference) -> str:
        """Return the event field that ``group`` (a field name or an alias) reads for a rule."""
        mapping = self.aliases.get(group)
        if mapping is None:
            return group
        for name in (reference.reference, *reference.names, *reference.ids):
            if name in mapping:
                return mapping[name]
        return group

    def holds(self, value: float) -> bool:
        """Tell whether ``value`` satisfies every bound (used on firing counts in tests)."""
        return all(_compare(b.op, value, b.threshold) for b in self.bounds)


def _compare(op: str, value: float, threshold: float) -> bool:
    match op:
        case "gt":
            return value > threshold
        case "gte":
            return value >= threshold
        case "lt":
            return value < threshold
        case "lte":
            return value <= threshold
        case "eq":
            return value == threshold
        case _:
            return value != threshold


def _prepare(documents: list[Any], source: str | None) -> list[Any]:
    """Keep a range condition whole under RANGE_KEY, handing pySigma its first bound."""
    prepared: list[Any] = []
    for number, document in enumerate(documents, start=1):
        if not isinstance(document, dict) or not isinstance(document.get("correlation"), dict):
            prepared.append(document)
            continue
        section = dict(document["correlation"])
        condition = section.get("condition")
        if isinstance(condition, dict):
            ops = [k for k in condition if k in OPERATORS]
            if len(ops) > 1:
                section[RANGE_KEY] = dict(condition)
                first = {k: v for k, v in condition.items() if k not in OPERATORS or k == ops[0]}
                section["condition"] = first
            elif not ops:
                msg = f"correlation condition has no operator; use one or two of {', '.join(OPERATORS)}"
                raise CorrelationRuleError(msg, Location(file=source, field=f"document {number}"))
        prepared.append({**document, "correlation": section})
    return prepared


def parse_correlation_rules(text: str, *, source: str | None = None) -> SigmaCollection:
    """Parse one or more YAML documents (rules and correlations) into a pySigma collection.

    References are not resolved here: a correlation may name base rules that the
    base-rule engine loads from elsewhere; the engine recognises their hits by id
    or name.
    """
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        msg = f"not valid YAML: {exc}"
        raise CorrelationRuleError(msg, Location(file=source)) from exc
    try:
        return SigmaCollection.from_dicts(_prepare(documents, source), resolve_references=False)
    except SigmaError as exc:
        msg = f"not a valid Sigma rule: {exc}"
        raise CorrelationRuleError(msg, Location(file=source)) from exc


def load_correlation_rules(paths: Iterable[Path]) -> SigmaCollection:
    """Parse every YAML file of ``paths`` (files or folders) into one collection."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in {".yml", ".yaml"}))
        else:
            files.append(path)
    rules: list[Any] = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            msg = f"cannot read rule file: {exc.strerror}"
            raise CorrelationRuleError(msg, Location(file=str(file))) from exc
        rules.extend(parse_correlation_rules(text, source=str(file)).rules)
    return SigmaCollection(rules, resolve_references=False)


def _where(rule: SigmaCorrelationRule) -> str:
    label = rule.title or "untitled"
    ident = rule.id or rule.name
    return f"correlation {label!r}" + (f" ({ident})" if ident else "")


def _fail(rule: SigmaCorrelationRule, why: str) -> CorrelationRuleError:
    return CorrelationRuleError(f"{_where(rule)}: {why}")


def _number(rule: SigmaCorrelationRule, op: str, value: Any) -> Bound:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(rule, f"condition {op}: {value!r} is not a number")
    return Bound(op, float(value))


def _bounds(rule: SigmaCorrelationRule, section: Mapping[str, Any]) -> tuple[Bound, ...]:
    full = section.get(RANGE_KEY)
    if isinstance(full, dict):
        return tuple(_number(rule, op, full[op]) for op in OPERATORS if op in full)
    condition = rule.condition
    if not isinstance(condition, SigmaCorrelationCondition):
        raise _fail(rule, "extended (boolean expression) conditions are not supported")
    op = condition.op.name.lower()
    return (_number(rule, op, condition.count),)


def _fields(rule: SigmaCorrelationRule, kind: str) -> tuple[str, ...]:
    condition = rule.condition
    ref = condition.fieldref if isinstance(condition, SigmaCorrelationCondition) else None
    if kind in {"value_count", *METRIC}:
        if not ref:
            raise _fail(rule, f"{kind} needs `field` in its condition")
        fields = (ref,) if isinstance(ref, str) else tuple(str(f) for f in ref)
        if kind in METRIC and len(fields) != 1:
            raise _fail(rule, f"{kind} aggregates exactly one field, not {list(fields)}")
        return fields
    return ()


def _percentile(rule: SigmaCorrelationRule, kind: str) -> float | None:
    if kind == "value_median":
        return 50.0
    condition = rule.condition
    if kind != "value_percentile" or not isinstance(condition, SigmaCorrelationCondition):
        return None
    if condition.percentile is None:
        return None
    if not 0 <= condition.percentile <= 100:
        raise _fail(rule, f"percentile {condition.percentile} is outside 0..100")
    return float(condition.percentile)


def _key(rule: SigmaCorrelationRule) -> str:
    if rule.id is not None:
        return str(rule.id)
    if rule.name:
        return str(rule.name)
    return f"title:{rule.title}"


def _base_reference(reference: Any) -> Reference:
    text = str(reference.reference)
    target = getattr(reference, "rule", None)  # set only when pySigma resolved it
    ids = {text}
    names = {text}
    if isinstance(target, SigmaRule):
        if target.id is not None:
            ids.add(str(target.id))
        if target.name:
            names.add(str(target.name))
    return Reference(text, tuple(sorted(ids)), tuple(sorted(names)))


def _compile_one(rule: SigmaCorrelationRule, keys: Mapping[str, str]) -> CorrelationSpec:
    if rule.errors:
        raise _fail(rule, "; ".join(str(e) for e in rule.errors))
    kind = rule.type.name.lower() if isinstance(rule.type, SigmaCorrelationType) else str(rule.type)
    if kind not in TYPES:
        raise _fail(rule, f"correlation type {kind!r} is not supported; supported: {sorted(TYPES)}")
    section = rule.custom_attributes.get("correlation", {})
    if not isinstance(section, dict):
        section = {}
    if not rule.rules:
        raise _fail(rule, "it refers to no rules")
    references = []
    for ref in rule.rules:
        text = str(ref.reference)
        chained = keys.get(text)
        if chained is not None:
            references.append(Reference(text, (), (), chained))
        else:
            references.append(_base_reference(ref))
    bounds = _bounds(rule, section)
    if kind == "temporal_ordered":
        needed = float(len(references))
        if not all(_compare(b.op, needed, b.threshold) for b in bounds):
            raise _fail(
                rule,
                "temporal_ordered fires when all its rules appear in order; a condition that "
                f"excludes {len(references)} rules can never fire",
            )
    aliases = {
        alias.alias: {str(ref.reference): str(name) for ref, name in alias.mapping.items()}
        for alias in rule.aliases
    }
    definition = json.dumps(rule.to_dict(), sort_keys=True, default=str)
    return CorrelationSpec(
        key=_key(rule),
        id=str(rule.id) if rule.id is not None else None,
        name=str(rule.name) if rule.name else None,
        title=str(rule.title),
        level=rule.level.name.lower() if rule.level is not None else None,
        type=kind,
        references=tuple(references),
        group_by=tuple(rule.group_by or ()),
        aliases=aliases,
        timespan=timedelta(seconds=rule.timespan.seconds),
        bounds=bounds,
        fields=_fields(rule, kind),
        percentile=_percentile(rule, kind),
        generate=bool(rule.generate),
        fingerprint=hashlib.sha256(
            (definition + json.dumps(section, sort_keys=True, default=str)).encode()
        ).hexdigest(),
        tags=tuple(str(t) for t in rule.tags),
    )


def compile_rules(rules: Iterable[Any]) -> list[CorrelationSpec]:
    """Compile the correlation rules among ``rules``, each after those it refers to.

    Base (non-correlation) rules in ``rules`` are used only to learn the id and
    name of what a correlation refers to. Raises CorrelationRuleError on a rule
    that cannot run, a duplicate, or a cycle of references.
    """
    rules = list(rules)
    correlations = [r for r in rules if isinstance(r, SigmaCorrelationRule)]
    base = {**{str(r.id): r for r in rules if isinstance(r, SigmaRule) and r.id is not None}}
    base.update({str(r.name): r for r in rules if isinstance(r, SigmaRule) and r.name})
    keys: dict[str, str] = {}
    for rule in correlations:
        key = _key(rule)
        if key in keys.values():
            raise _fail(rule, f"a second correlation has the same identity {key!r}")
        for alias in (rule.id, rule.name):
            if alias:
                keys[str(alias)] = key
    for rule in correlations:  # let base references know their rule's id and name
        for ref in rule.rules or []:
            target = base.get(str(ref.reference))
            if target is not None and str(ref.reference) not in keys:
                ref.rule = target
    specs = {spec.key: spec for spec in (_compile_one(r, keys) for r in correlations)}
    ordered: list[CorrelationSpec] = []
    state: dict[str, str] = {}

    def visit(spec: CorrelationSpec, path: tuple[str, ...]) -> None:
        if state.get(spec.key) == "done":
            return
        if state.get(spec.key) == "active":
            cycle = " -> ".join((*path, spec.key))
            msg = f"correlation references form a cycle: {cycle}"
            raise CorrelationRuleError(msg)
        state[spec.key] = "active"
        for ref in spec.references:
            if ref.correlation is not None:
                visit(specs[ref.correlation], (*path, spec.key))
        state[spec.key] = "done"
        ordered.append(spec)

    for spec in specs.values():
        visit(spec, ())
    return ordered
