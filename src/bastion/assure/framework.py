"""A framework as data: objectives → principles → outcomes → statements, and its rules.

A framework is never code: a library file says what each outcome asks (its
statements, each with an identifier, text and category), the minimum status each
profile needs of it, what it maps to in other frameworks, and the rules that turn
answered statements into outcome statuses (and, for a DSPT-style framework, into
the return's overall status). ``Framework`` is the validated, frozen form of one
library; ``bastion.assure.rules`` evaluates its rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class Statement:
    """One question or indicator of good practice; ``auto_fail`` if not meeting it fails a control."""

    id: str
    text: str
    category: str
    auto_fail: bool = False


@dataclass(frozen=True)
class Outcome:
    """An outcome (a CAF contributing outcome, a DSPT standard, a Cyber Essentials control)."""

    id: str
    title: str
    text: str
    principle: str
    objective: str
    statements: tuple[Statement, ...]
    profile: dict[str, str] = field(default_factory=dict)  # profile -> minimum status
    maps: tuple[str, ...] = ()  # "<framework key>:<outcome id>"


@dataclass(frozen=True)
class Clause:
    """One condition of an ordered rule: a category's statements quantified, or a fact."""

    category: str | None = None
    quantifier: str | None = None  # all, any, none
    fact: str | None = None


@dataclass(frozen=True)
class OrderedRule:
    """The first step whose clauses all hold gives the status; else ``otherwise``."""

    steps: tuple[tuple[tuple[Clause, ...], str], ...]
    otherwise: str


@dataclass(frozen=True)
class TableRule:
    """A status for each combination of all/some/none per category, keyed ``all_some_none``."""

    categories: tuple[str, ...]
    table: dict[str, str]
    messages: dict[str, str] = field(default_factory=dict)


Rule = OrderedRule | TableRule


@dataclass(frozen=True, eq=False)
class Framework:
    """One version of one framework, as its library gives it (equal only to itself)."""

    key: str
    version: str
    title: str
    kind: str  # caf, dspt, cyber-essentials
    statuses: tuple[str, ...]  # best first
    outcome_rule: Rule
    outcomes: tuple[Outcome, ...]
    objectives: dict[str, str]
    principles: dict[str, str]
    profiles: dict[str, str]  # organisation type (or "default") -> profile
    return_rule: OrderedRule | None = None
    return_statuses: tuple[str, ...] = ()
    source: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def ref(self) -> str:
        """Return ``key@version``, how a return names its framework."""
        return f"{self.key}@{self.version}"

    @cached_property
    def statements(self) -> tuple[Statement, ...]:
        """Return every statement, outcome by outcome: the order of a return's answer marks."""
        return tuple(s for o in self.outcomes for s in o.statements)

    @cached_property
    def statement_index(self) -> dict[str, int]:
        """Return each statement's position in ``statements``."""
        return {s.id: i for i, s in enumerate(self.statements)}

    @cached_property
    def outcome_of_statement(self) -> dict[str, str]:
        """Return the outcome each statement belongs to."""
        return {s.id: o.id for o in self.outcomes for s in o.statements}

    def outcome(self, outcome_id: str) -> Outcome:
        """Return the outcome ``outcome_id``; raise KeyError naming it if there is none."""
        for found in self.outcomes:
            if found.id == outcome_id:
                return found
        raise KeyError(outcome_id)

    def profile_of(self, org_type: str) -> str:
        """Return the profile an organisation of ``org_type`` is assessed against."""
        return self.profiles.get(org_type, self.profiles.get("default", "baseline"))

    def required(self, outcome: Outcome, profile: str) -> str | None:
        """Return the least status ``profile`` needs of ``outcome``; None if it is not asked."""
        need = outcome.profile.get(profile)
        if need is None:
            return None if outcome.profile else self.statuses[0]
        # The worst status as the minimum means the profile does not ask for the outcome.
        return None if need == self.statuses[-1] else need

    def meets(self, status: str, required: str | None) -> bool:
        """Tell whether ``status`` is at least ``required`` (always, if nothing is required)."""
        if required is None:
            return True
        return self.statuses.index(status) <= self.statuses.index(required)
