"""What a return looks like to a reader: its outcomes with statuses, progress, reviews, drift.

Built from the stored row and its framework; the working statuses are derived
from the current answers (a draft's progress view), the published ones are those
of the latest published version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bastion.assure.framework import Framework
from bastion.assure.models import ReturnRow, ReviewRow
from bastion.assure.rules import derive_one
from bastion.core.errors import InputError

PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


def period_deadline(period: str, month_day: str = "06-30") -> date:
    """Return the cut-off of ``period`` (``2024-25``): ``month_day`` of its second year."""
    found = PERIOD.match(period)
    if found is None or (int(found.group(1)) + 1) % 100 != int(found.group(2)):
        msg = f"a period is written YYYY-YY, two consecutive years (2024-25), not {period!r}"
        raise InputError(msg)
    month, day = (int(p) for p in month_day.split("-"))
    return date(int(found.group(1)) + 1, month, day)


def answers_of(framework: Framework, marks: str) -> dict[str, bool | None]:
    """Return the answers a mark string holds, by statement id."""
    values = {"1": True, "0": False}
    return {s.id: values.get(m) for s, m in zip(framework.statements, marks, strict=False)}


@dataclass(frozen=True)
class StatementView:
    id: str
    text: str
    category: str
    answer: bool | None
    comment: str
    alternative: str  # the reason an alternative control meets it, if one does


@dataclass(frozen=True)
class OutcomeView:
    id: str
    title: str
    objective: str
    principle: str
    status: str  # derived from the current answers
    published: str | None  # in the latest published version
    required: str | None  # what the organisation's profile needs (None: not asked)
    meets: bool
    owner: str
    evidence: tuple[str, ...]
    answered: int
    statements: tuple[StatementView, ...]


@dataclass(frozen=True)
class ReviewView:
    id: int
    kind: str
    reviewer: str
    state: str
    comments: dict[str, list[dict[str, str]]]
    updated_at: datetime


@dataclass(frozen=True)
class ReturnView:
    id: int
    org: str
    period: str
    framework: str
    org_type: str
    profile: str
    state: str
    version: int
    status: str | None  # published
    working_status: str | None  # what publishing now would give
    published_at: datetime | None
    deadline: date
    late: bool
    answered: int
    asked: int
    progress: float  # share of the statements the profile asks that are answered
    source: str
    outcomes: tuple[OutcomeView, ...]
    reviews: tuple[ReviewView, ...]
    drift: tuple[dict[str, Any], ...]
    facts: dict[str, bool]


def is_late(row: ReturnRow, today: date) -> bool:
    """Tell whether the return missed its deadline: published after it, or still not by it."""
    if row.published_at is not None:
        return bool(row.published_late)
    return today > row.deadline


def review_view(row: ReviewRow) -> ReviewView:
    return ReviewView(row.id, row.kind, row.reviewer, row.state, dict(row.comments), row.updated_at)


def build_view(
    framework: Framework,
    row: ReturnRow,
    reviews: list[ReviewRow],
    facts: dict[str, bool],
    today: date,
) -> ReturnView:
    """Return the reader's view of ``row``."""
    answers = answers_of(framework, row.marks)
    statuses, overall = derive_one(framework, answers, facts)
    published = dict(zip([o.id for o in framework.outcomes], row.outcome_marks, strict=False))
    outcomes = []
    answered_total = asked_total = 0
    for outcome in framework.outcomes:
        required = framework.required(outcome, row.profile)
        answered = sum(answers.get(s.id) is not None for s in outcome.statements)
        if required is not None:
            answered_total += answered
            asked_total += len(outcome.statements)
        statements = tuple(
            StatementView(
                s.id, s.text, s.category, answers.get(s.id),
                str(row.comments.get(s.id, {}).get("text", "")),
                str(row.comments.get(s.id, {}).get("alternative", "")),
            )
            for s in outcome.statements
        )  # fmt: skip
        mark = published.get(outcome.id)
        outcomes.append(
            OutcomeView(
                outcome.id, outcome.title, outcome.objective, outcome.principle,
                statuses[outcome.id], framework.statuses[int(mark)] if mark else None, required,
                framework.meets(statuses[outcome.id], required), str(row.owners.get(outcome.id, "")),
                tuple(row.evidence.get(outcome.id, [])), answered, statements,
            )
        )  # fmt: skip
    return ReturnView(
        row.id, row.org_code, row.period, row.framework, row.org_type, row.profile, row.state,
        row.version, row.status, overall, row.published_at, row.deadline, is_late(row, today),
        answered_total, asked_total, answered_total / asked_total if asked_total else 1.0,
        row.source, tuple(outcomes), tuple(review_view(r) for r in reviews),
        tuple(row.drift or ()), facts,
    )  # fmt: skip
