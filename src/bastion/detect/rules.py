"""Compiled rules and what loading said about each rule file: frozen value objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bastion.core.types import Severity
from bastion.detect.compiler import CompiledDetection

# Sigma levels → Bastion alert severities.
LEVEL_SEVERITY: dict[str, Severity] = {
    "informational": Severity.INFORMATIONAL,
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}


class RuleStatus(StrEnum):
    """What loading made of one rule."""

    COMPILED = "compiled"  # Bastion runs it
    UNSUPPORTED = "unsupported"  # valid Sigma, but it uses something Bastion cannot evaluate
    INVALID = "invalid"  # not a valid Sigma rule (or not YAML)
    CORRELATION = "correlation"  # a correlation rule: kept for the correlation engine
    FILTER = "filter"  # a Sigma filter: applied to the rules it names


@dataclass(frozen=True)
class Rule:
    """One Sigma rule, compiled to a predicate and routed to the datasets it reads."""

    id: str
    name: str | None
    title: str
    level: str
    tags: tuple[str, ...]
    status: str | None  # the rule's own Sigma status (stable, test, experimental …)
    path: str | None
    datasets: tuple[str, ...]  # empty: every dataset
    detection: CompiledDetection
    alert: bool = True  # False when only a correlation with ``generate: false`` uses it
    warnings: tuple[str, ...] = ()

    @property
    def severity(self) -> Severity:
        return LEVEL_SEVERITY.get(self.level, Severity.MEDIUM)

    @property
    def attack(self) -> tuple[str, ...]:
        """The rule's ATT&CK tags (``attack.t1071.001``, ``attack.command-and-control`` …)."""
        return tuple(t for t in self.tags if t.startswith("attack."))


@dataclass(frozen=True)
class RuleReport:
    """What loading said about one rule (or one file that held no rule)."""

    path: str | None
    status: RuleStatus
    id: str | None = None
    title: str | None = None
    reason: str | None = None
    warnings: tuple[str, ...] = field(default=())
    missing_fields: tuple[str, ...] = field(default=())  # fields no event Bastion reads has

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "reason": self.reason,
            "warnings": list(self.warnings),
            "missing_fields": list(self.missing_fields),
        }
