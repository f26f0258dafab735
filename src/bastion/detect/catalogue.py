"""The rule catalogue: what the console and the API show of the rules folder.

One ``CatalogueEntry`` per rule and correlation rule of the folder, and per rule that
does not run (invalid or unsupported, with why), holding what the rule says of itself
(log source, description, tags, its YAML) beside what loading made of it.
``RuleCatalogue`` keeps the catalogue of one folder and loads it again only when a
rule file changes, so a page does not compile every rule on every request.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sigma.correlations import SigmaCorrelationRule

from bastion.core.errors import NotFoundError
from bastion.detect.builtin import BUILTIN_CHECKS, BuiltinCheck
from bastion.detect.correlation_compiler import compile_correlations, report_failures
from bastion.detect.engine import RuleSet
from bastion.detect.loader import load_rules, rule_files
from bastion.detect.rules import Rule, RuleReport, RuleStatus

RULE = "rule"
CORRELATION = "correlation"
BUILTIN = "builtin"
LEVELS = ("informational", "low", "medium", "high", "critical")
_DOCUMENT_BREAK = re.compile(r"^---[ \t]*$", re.M)


@dataclass(frozen=True)
class CatalogueEntry:
    """One rule as the catalogue shows it."""

    id: str
    title: str
    kind: str  # RULE, CORRELATION or BUILTIN
    level: str | None
    sigma_status: str | None  # the rule's own status: stable, test, experimental …
    state: RuleStatus  # compiled, correlation, or why it does not run (invalid, unsupported)
    logsource: str  # "category: webserver", or the correlation's type
    description: str | None
    tags: tuple[str, ...]
    fields: tuple[str, ...]  # event fields it tests (a correlation: group-by and value field)
    references: tuple[str, ...]  # the rules a correlation counts
    path: str | None
    yaml: str | None  # the rule's YAML document as written
    reason: str | None = None  # why it does not run
    warnings: tuple[str, ...] = ()

    @property
    def runs(self) -> bool:
        """Tell whether Bastion evaluates the rule (it compiled)."""
        return self.state in (RuleStatus.COMPILED, RuleStatus.CORRELATION)

    @property
    def attack(self) -> tuple[str, ...]:
        """The rule's ATT&CK tags (``attack.t1190``, ``attack.initial-access`` …)."""
        return tuple(t for t in self.tags if t.startswith("attack."))

    @property
    def level_rank(self) -> int:
        return LEVELS.index(self.level) if self.level in LEVELS else -1


@dataclass(frozen=True)
class Catalogue:
    """The rules of one folder, in file order, and the files that hold no rule Bastion can name."""

    entries: tuple[CatalogueEntry, ...]
    problems: tuple[RuleReport, ...] = ()  # invalid files without a rule id

    def get(self, rule_id: str) -> CatalogueEntry:
        """Return the entry of ``rule_id``; raise NotFoundError when the folder has none."""
        for entry in self.entries:
            if entry.id == rule_id:
                return entry
        msg = f"no rule has id {rule_id!r}; see 'bastion rules list'"
        raise NotFoundError(msg)


def _documents(
    path: str | None, cache: dict[str, list[tuple[str, dict[str, Any]]]]
) -> list[tuple[str, dict[str, Any]]]:
    """Return the YAML documents of a rule file: each one's text and what it parses to."""
    if path is None:
        return []
    if path not in cache:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        found = []
        for chunk in _DOCUMENT_BREAK.split(text):
            try:
                parsed = yaml.safe_load(chunk)
            except yaml.YAMLError:
                parsed = None
            found.append((chunk.strip("\n") + "\n", parsed if isinstance(parsed, dict) else {}))
        cache[path] = [(t, d) for t, d in found if t.strip()]
    return cache[path]


def _document(
    path: str | None,
    rule_id: str | None,
    title: str | None,
    cache: dict[str, list[tuple[str, dict[str, Any]]]],
) -> tuple[str | None, dict[str, Any]]:
    """Find a rule's own document in its file: by id, else by title, else the only one."""
    documents = _documents(path, cache)
    for text, doc in documents:
        if rule_id is not None and str(doc.get("id")) == rule_id:
            return text, doc
    for text, doc in documents:
        if title is not None and doc.get("title") == title:
            return text, doc
    if len(documents) == 1:
        return documents[0]
    return None, {}


def _logsource(doc: Mapping[str, Any]) -> str:
    source = doc.get("logsource")
    if not isinstance(source, dict):
        return ""
    return ", ".join(
        f"{k}: {source[k]}" for k in ("product", "category", "service") if source.get(k)
    )


def _text(value: object) -> str | None:
    return " ".join(str(value).split()) if value else None


def _rule_entry(rule: Rule, cache: dict[str, list[tuple[str, dict[str, Any]]]]) -> CatalogueEntry:
    text, doc = _document(rule.path, rule.id, rule.title, cache)
    needs = rule.detection.needs
    return CatalogueEntry(
        id=rule.id,
        title=rule.title,
        kind=RULE,
        level=rule.level,
        sigma_status=rule.status,
        state=RuleStatus.COMPILED,
        logsource=_logsource(doc),
        description=_text(doc.get("description")),
        tags=rule.tags,
        fields=tuple(sorted(needs.columns | needs.missing)),
        references=(),
        path=rule.path,
        yaml=text,
        warnings=rule.warnings,
    )


def _correlation_entry(
    rule: SigmaCorrelationRule, cache: dict[str, list[tuple[str, dict[str, Any]]]]
) -> CatalogueEntry:
    path = str(rule.source.path) if rule.source is not None and rule.source.path else None
    rule_id = str(rule.id or rule.name)
    text, _ = _document(path, str(rule.id) if rule.id else None, rule.title, cache)
    value_field = getattr(rule.condition, "fieldref", None)
    fields = [*(rule.group_by or []), *([value_field] if value_field else [])]
    return CatalogueEntry(
        id=rule_id,
        title=rule.title,
        kind=CORRELATION,
        level=rule.level.name.lower() if rule.level else None,
        sigma_status=rule.status.name.lower() if rule.status else None,
        state=RuleStatus.CORRELATION,
        logsource=f"correlation: {rule.type.name.lower()}",
        description=_text(rule.description),
        tags=tuple(f"{t.namespace}.{t.name}" for t in rule.tags),
        fields=tuple(dict.fromkeys(str(f) for f in fields)),
        references=tuple(str(r.reference) for r in rule.rules or ()),
        path=path,
        yaml=text,
    )


def _failed_entry(
    report: RuleReport, cache: dict[str, list[tuple[str, dict[str, Any]]]]
) -> CatalogueEntry:
    text, doc = _document(report.path, report.id, report.title, cache)
    tags = doc.get("tags")
    level = doc.get("level")
    status = doc.get("status")
    return CatalogueEntry(
        id=str(report.id),
        title=report.title or str(report.id),
        kind=CORRELATION if "correlation" in doc else RULE,
        level=str(level) if level in LEVELS else None,
        sigma_status=str(status) if status else None,
        state=report.status,
        logsource=_logsource(doc),
        description=_text(doc.get("description")),
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
        fields=(),
        references=(),
        path=report.path,
        yaml=text,
        reason=report.reason,
        warnings=report.warnings,
    )


def build_catalogue(rules: RuleSet) -> Catalogue:
    """Describe every rule of a loaded rule set, and every rule of it that does not run."""
    cache: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    entries = [_rule_entry(r, cache) for r in rules.rules]
    entries += [_correlation_entry(c, cache) for c in rules.correlations]
    failed = [r for r in rules.reports if r.status in (RuleStatus.INVALID, RuleStatus.UNSUPPORTED)]
    known = {e.id for e in entries}
    for report in failed:
        if report.id is not None and report.id not in known:
            entries.append(_failed_entry(report, cache))
            known.add(report.id)
    problems = tuple(r for r in failed if r.id is None)
    entries += [_builtin_entry(c) for c in BUILTIN_CHECKS]
    return Catalogue(tuple(entries), problems)


def _builtin_entry(check: BuiltinCheck) -> CatalogueEntry:
    return CatalogueEntry(
        id=check.id,
        title=check.title,
        kind=BUILTIN,
        level=check.level,
        sigma_status=None,
        state=RuleStatus.COMPILED,
        logsource="built-in check",
        description=check.description,
        tags=check.tags,
        fields=check.fields,
        references=(),
        path=None,
        yaml=None,
    )


class RuleCatalogue:
    """The catalogue of one rules folder, loaded again only when a rule file changes."""

    def __init__(
        self, folder: Path, placeholders: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        self.folder = folder
        self.placeholders = dict(placeholders or {})
        self._lock = threading.Lock()
        self._seen: tuple[tuple[str, int, int], ...] | None = None
        self._catalogue = Catalogue(())

    def _fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        if not self.folder.is_dir():
            return ()
        found = []
        for path in rule_files([self.folder]):
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(found)

    def _load(self) -> RuleSet:
        loaded = load_rules([self.folder], placeholders=self.placeholders)
        kept, failed = compile_correlations(loaded.correlations)
        return RuleSet(
            loaded.rules, kept, report_failures(loaded.correlations, failed, loaded.reports)
        )

    def current(self) -> Catalogue:
        """Return the folder's catalogue, loading the rules again if a file changed."""
        with self._lock:
            seen = self._fingerprint()
            if seen != self._seen:
                self._catalogue = build_catalogue(self._load() if seen else RuleSet([]))
                self._seen = seen
            return self._catalogue
