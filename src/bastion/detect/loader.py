"""Load Sigma rules, correlation rules and filters from files and folders, and compile them.

Every file gives at least one ``RuleReport``: a rule compiled, a rule Bastion cannot run
(with the exact reason), a file that is not valid Sigma (with pySigma's error), a
correlation rule (kept for the correlation engine) or a filter. Nothing is skipped
silently. Filters apply to the rules they name (Sigma filters specification); a filter
whose selection tests ``organization.id`` is an exception for those organisations only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.filters import SigmaFilter
from sigma.modifiers import SigmaWideModifier, modifier_mapping
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import ValueListPlaceholderTransformation
from sigma.rule import SigmaRule
from sigma.validation import SigmaValidator
from sigma.validators.core import validators as core_validators

from bastion.core.errors import InputError, Location
from bastion.detect.compiler import compile_detection
from bastion.detect.logsources import datasets_for, processing_pipeline
from bastion.detect.rules import Rule, RuleReport, RuleStatus
from bastion.detect.values import Unsupported

# The modifiers appendix names ``utf16le``; pySigma knows it only as its alias ``wide``.
modifier_mapping.setdefault("utf16le", SigmaWideModifier)

RULE_SUFFIXES = (".yml", ".yaml")
# pySigma's checks of a rule's own logic and form (none that fetch data: the ATT&CK tag
# check downloads MITRE's catalogue); what they find is reported with the rule.
VALIDATORS = (
    "control_character",
    "dangling_detection",
    "double_wildcard",
    "duplicate_tag",
    "escaped_wildcard",
    "invalid_modifier_combinations",
    "number_as_string",
    "them_condition_with_single_detection",
    "all_of_them_condition",
)
_ID_NAMESPACE = uuid.UUID("5b8f4f0e-2f7d-4c57-9a52-6f1d8b3f6a10")


@dataclass(frozen=True)
class Loaded:
    """What loading produced: compiled rules, correlations and a report per rule or file."""

    rules: list[Rule]
    correlations: list[SigmaCorrelationRule]
    reports: list[RuleReport]


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """Expand files and folders into the Sigma files under them, sorted; raise on a missing path."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in RULE_SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            msg = "no such rule file or folder"
            raise InputError(msg, Location(file=str(path)))
    return found


def _location(rule: SigmaRule | SigmaCorrelationRule | SigmaFilter) -> str | None:
    source = rule.source
    return str(source.path) if source is not None and source.path is not None else None


def _report(
    rule: SigmaRule | SigmaCorrelationRule | SigmaFilter,
    status: RuleStatus,
    reason: str | None = None,
) -> RuleReport:
    """Report on a rule by where it is, its own id (if it has one) and title."""
    return RuleReport(
        _location(rule), status, str(rule.id) if rule.id else None, rule.title, reason
    )


def _pipeline(placeholders: Mapping[str, Sequence[str]]) -> ProcessingPipeline:
    pipeline = processing_pipeline()
    if placeholders:
        expand = ProcessingItem(
            identifier="bastion-placeholders",
            transformation=ValueListPlaceholderTransformation(include=list(placeholders)),
        )
        pipeline = (
            ProcessingPipeline(
                name="bastion-placeholders",
                priority=10,
                items=[expand],
                vars={k: list(v) for k, v in placeholders.items()},
            )
            + pipeline
        )
    return pipeline


def _parse_documents(
    text: str, path: str
) -> tuple[list[SigmaRule | SigmaCorrelationRule | SigmaFilter], list[RuleReport]]:
    """Parse one file's YAML documents; each bad document is reported with its error."""
    objects: list[SigmaRule | SigmaCorrelationRule | SigmaFilter] = []
    reports: list[RuleReport] = []
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        return [], [RuleReport(path, RuleStatus.INVALID, reason=f"not valid YAML: {exc}")]
    if not documents:
        return [], [RuleReport(path, RuleStatus.INVALID, reason="the file holds no YAML document")]
    for document in documents:
        title = document.get("title") if isinstance(document, dict) else None
        try:
            collection = SigmaCollection.from_dicts(
                [document],
                collect_errors=True,
                source=SigmaRuleLocation(Path(path)),
                collect_filters=True,
                resolve_references=False,
            )
        except SigmaError as exc:
            reports.append(RuleReport(path, RuleStatus.INVALID, title=title, reason=str(exc)))
            continue
        errors = list(collection.errors)
        for item in [*collection.rules, *collection.filters]:
            errors.extend(item.errors)
        if errors:
            reason = "; ".join(dict.fromkeys(str(e) for e in errors))
            ident = document.get("id") if isinstance(document, dict) else None
            reports.append(
                RuleReport(path, RuleStatus.INVALID, id=ident, title=title, reason=reason)
            )
            continue
        objects.extend([*collection.rules, *collection.filters])
    return objects, reports


def _rule_id(rule: SigmaRule | SigmaCorrelationRule, path: str | None) -> tuple[str, str | None]:
    if rule.id is not None:
        return str(rule.id), None
    made = str(uuid.uuid5(_ID_NAMESPACE, f"{path}\x00{rule.title}"))
    return made, f"the rule has no id; Bastion calls it {made} (from its file and title)"


def load_texts(
    texts: Iterable[tuple[str, str]],
    *,
    placeholders: Mapping[str, Sequence[str]] | None = None,
) -> Loaded:
    """Load and compile rules from (origin, YAML text) pairs; see ``load_rules``."""
    objects: list[SigmaRule | SigmaCorrelationRule | SigmaFilter] = []
    reports: list[RuleReport] = []
    for origin, text in texts:
        found, bad = _parse_documents(text, origin)
        objects.extend(found)
        reports.extend(bad)
    filters = [o for o in objects if isinstance(o, SigmaFilter)]
    bases = [o for o in objects if not isinstance(o, SigmaFilter)]
    for sigma_filter in filters:
        reports.append(_report(sigma_filter, RuleStatus.FILTER))
    try:
        collection = SigmaCollection(bases, resolve_references=False)  # type: ignore[arg-type]
        collection.apply_filters(filters)
    except SigmaError as exc:
        msg = f"the rule filters cannot be applied: {exc}"
        raise InputError(msg) from exc
    correlations: list[SigmaCorrelationRule] = []
    for rule in collection.rules:
        if isinstance(rule, SigmaCorrelationRule):
            try:
                rule.resolve_rule_references(collection)
            except SigmaError as exc:
                reports.append(_report(rule, RuleStatus.INVALID, reason=str(exc)))
                continue
            correlations.append(rule)
            reports.append(_report(rule, RuleStatus.CORRELATION))
    validator = SigmaValidator([core_validators[name] for name in VALIDATORS])
    rules: list[Rule] = []
    seen: dict[str, str | None] = {}
    for rule in collection.rules:
        if not isinstance(rule, SigmaRule):
            continue
        path = _location(rule)
        rule_id, id_note = _rule_id(rule, path)
        if rule_id in seen:
            reason = f"duplicate rule id {rule_id} (first in {seen[rule_id]})"
            reports.append(
                RuleReport(path, RuleStatus.INVALID, id=rule_id, title=rule.title, reason=reason)
            )
            continue
        seen[rule_id] = path
        notes = [id_note] if id_note is not None else []
        try:
            issues = validator.validate_rule(rule)
            notes += list(
                dict.fromkeys(
                    f"validation ({i.severity.name.lower()}): {i.description}" for i in issues
                )
            )
        except SigmaError as exc:
            notes.append(f"validation could not run: {exc}")
        compiled, report = compile_rule(rule, rule_id, path, placeholders or {})
        if notes:
            report = RuleReport(
                report.path,
                report.status,
                report.id,
                report.title,
                report.reason,
                (*notes, *report.warnings),
            )
        reports.append(report)
        if compiled is not None:
            rules.append(compiled)
    return Loaded(rules, correlations, reports)


def compile_rule(
    rule: SigmaRule,
    rule_id: str,
    path: str | None,
    placeholders: Mapping[str, Sequence[str]],
) -> tuple[Rule | None, RuleReport]:
    """Run one rule through the field-mapping pipeline and the compiler."""
    try:
        _pipeline(placeholders).apply(rule)
        detection = compile_detection(rule)
    except (Unsupported, SigmaError) as exc:
        return None, RuleReport(
            path, RuleStatus.UNSUPPORTED, id=rule_id, title=rule.title, reason=str(exc)
        )
    datasets, parsed = datasets_for(rule.logsource)
    warnings: list[str] = []
    if not parsed:
        warnings.append(
            f"no Bastion parser produces this log source; the rule runs on events whose "
            f"event.dataset is {datasets[0]!r}"
        )
    for missing in sorted(detection.needs.missing):
        warnings.append(
            f"field {missing!r} has no column in Bastion's event schema: it reads as null "
            f"(a value test on it is false, 'not' of one true, '{missing}: null' true)"
        )
    if detection.never:
        warnings.append(
            "no event Bastion reads can match this rule: every way to satisfy it needs a value "
            "in a field the event schema lacks, so it is compiled but never run"
        )
    compiled = Rule(
        id=rule_id,
        name=rule.name,
        title=rule.title,
        level=rule.level.name.lower() if rule.level is not None else "medium",
        tags=tuple(f"{t.namespace}.{t.name}" for t in rule.tags),
        status=rule.status.name.lower() if rule.status is not None else None,
        path=path,
        datasets=datasets,
        detection=detection,
        alert=bool(getattr(rule, "_output", True)),
        warnings=tuple(warnings),
    )
    return compiled, RuleReport(
        path,
        RuleStatus.COMPILED,
        id=rule_id,
        title=rule.title,
        warnings=tuple(warnings),
        missing_fields=tuple(sorted(detection.needs.missing)),
    )


def load_rules(
    paths: Iterable[Path], *, placeholders: Mapping[str, Sequence[str]] | None = None
) -> Loaded:
    """Load every Sigma file under ``paths`` (files or folders), apply filters, compile.

    ``placeholders`` gives the values of ``%name%`` placeholders for the ``expand``
    modifier; a rule naming one without values is reported unsupported.
    """
    texts: list[tuple[str, str]] = []
    for path in rule_files(paths):
        try:
            texts.append((str(path), path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            msg = f"cannot read rule file: {exc}"
            raise InputError(msg, Location(file=str(path))) from exc
    return load_texts(texts, placeholders=placeholders)
