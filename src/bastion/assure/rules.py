"""Turn answered statements into outcome statuses (and a return's status), many returns at once.

Answers are a boolean matrix, one row per return and one column per statement in
the framework's order (``Framework.statements``): True where the statement is met
(selected), False where it is not or was not answered. Per outcome and category
the number of met statements is one matrix product, and each rule is a few
vectorised comparisons on those counts, so deriving 41,000 returns costs no
Python loop per return. A single return is the same call with one row.

Quantifiers: ``all`` holds when the category has statements and every one is met;
``any`` when at least one is met; ``none`` when none is. A table rule names each
category's state ``all``, ``some`` or ``none`` (a category without statements is
``none``: nothing of it was selected).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from bastion.assure.framework import Clause, Framework, OrderedRule, TableRule

Bools = npt.NDArray[np.bool_]
Codes = npt.NDArray[np.int8]
_STATES = {"all": 0, "some": 1, "none": 2}
MET, NOT_MET, UNANSWERED = ord("1"), ord("0"), ord(".")


@dataclass(frozen=True)
class Counts:
    """Met statements per return and outcome for each category, and how many there are."""

    met: dict[str, npt.NDArray[np.int32]]  # category -> (returns, outcomes)
    total: dict[str, npt.NDArray[np.int32]]  # category -> (outcomes,)


@cache
def _membership(framework: Framework) -> dict[str, npt.NDArray[np.float32]]:
    """Return, per category, the (statements, outcomes) matrix of which statement is whose."""
    categories = sorted({s.category for s in framework.statements})
    found = {c: np.zeros((len(framework.statements), len(framework.outcomes)), np.float32)
             for c in categories}  # fmt: skip
    row = 0
    for column, outcome in enumerate(framework.outcomes):
        for statement in outcome.statements:
            found[statement.category][row, column] = 1.0
            row += 1
    return found


def count(framework: Framework, marks: Bools) -> Counts:
    """Count met statements per return, outcome and category."""
    values = marks.astype(np.float32)
    members = _membership(framework)
    return Counts(
        met={c: (values @ m).astype(np.int32) for c, m in members.items()},
        total={c: m.sum(axis=0).astype(np.int32) for c, m in members.items()},
    )


def _holds(
    clause: Clause, counts: Counts, shape: tuple[int, ...], facts: Mapping[str, Bools]
) -> Bools:
    if clause.fact is not None:
        fact = facts.get(clause.fact)
        wide = np.zeros(shape[0], np.bool_) if fact is None else fact.astype(np.bool_)
        return np.broadcast_to(wide[:, None], shape)
    category = str(clause.category)
    met = counts.met.get(category, np.zeros(shape, np.int32))
    total = counts.total.get(category, np.zeros(shape[1], np.int32))
    if clause.quantifier == "all":
        holds: Bools = (total > 0) & (met == total)
    elif clause.quantifier == "any":
        holds = np.greater(met, 0)
    else:
        holds = np.equal(met, 0)
    return holds


def _ordered(
    rule: OrderedRule, statuses: Sequence[str], counts: Counts, shape: tuple[int, ...],
    facts: Mapping[str, Bools],
) -> Codes:  # fmt: skip
    result = np.full(shape, statuses.index(rule.otherwise), np.int8)
    decided = np.zeros(shape, np.bool_)
    for clauses, status in rule.steps:
        holds = np.ones(shape, np.bool_)
        for clause in clauses:
            holds &= _holds(clause, counts, shape, facts)
        take = holds & ~decided
        result[take] = statuses.index(status)
        decided |= take
    return result


def _table(
    rule: TableRule, statuses: Sequence[str], counts: Counts, shape: tuple[int, ...]
) -> Codes:
    key = np.zeros(shape, np.int32)
    for category in rule.categories:
        met = counts.met.get(category, np.zeros(shape, np.int32))
        total = counts.total.get(category, np.zeros(shape[1], np.int32))
        state = np.where(met == 0, 2, np.where(met == total, 0, 1))
        key = key * 3 + state
    lookup = np.full(3 ** len(rule.categories), statuses.index(statuses[-1]), np.int8)
    for name, status in rule.table.items():
        index = 0
        for part in name.split("_"):
            index = index * 3 + _STATES[part]
        lookup[index] = statuses.index(status)
    return lookup[key]


def outcome_codes(framework: Framework, marks: Bools) -> Codes:
    """Return each return's outcome statuses as indexes into ``framework.statuses``."""
    counts = count(framework, marks)
    shape = (marks.shape[0], len(framework.outcomes))
    rule = framework.outcome_rule
    if isinstance(rule, TableRule):
        return _table(rule, framework.statuses, counts, shape)
    return _ordered(rule, framework.statuses, counts, shape, {})


@cache
def _everything(framework: Framework) -> Framework:
    """Return ``framework`` as one outcome holding every statement (for the return rule)."""
    from dataclasses import replace

    whole = replace(framework.outcomes[0], id="*", statements=framework.statements)
    return replace(framework, outcomes=(whole,))


def return_codes(framework: Framework, marks: Bools, facts: Mapping[str, Bools]) -> Codes | None:
    """Return each return's overall status (index into ``return_statuses``), if the framework has a rule."""
    rule = framework.return_rule
    if rule is None:
        return None
    counts = count(_everything(framework), marks)
    return _ordered(rule, framework.return_statuses, counts, (marks.shape[0], 1), facts)[:, 0]


def marks_matrix(framework: Framework, rows: Sequence[str]) -> Bools:
    """Return the boolean matrix of answer mark strings ('1' met, '0' not, '.' unanswered)."""
    width = len(framework.statements)
    if not rows:
        return np.zeros((0, width), np.bool_)
    raw = np.frombuffer("".join(rows).encode("ascii"), np.uint8)
    if raw.size != width * len(rows):
        msg = f"answer marks of {framework.ref} are {width} characters per return"
        raise ValueError(msg)
    met: Bools = np.equal(raw.reshape(len(rows), width), MET)
    return met


def marks_of(framework: Framework, answers: Mapping[str, bool | None]) -> str:
    """Return the mark string of ``answers`` (statement id -> met, not met, or unanswered)."""
    chars = []
    for statement in framework.statements:
        value = answers.get(statement.id)
        chars.append("." if value is None else "1" if value else "0")
    return "".join(chars)


def derive_one(
    framework: Framework,
    answers: Mapping[str, bool | None],
    facts: Mapping[str, bool] | None = None,
) -> tuple[dict[str, str], str | None]:
    """Return one return's outcome statuses and overall status (None without a return rule)."""
    marks = marks_matrix(framework, [marks_of(framework, answers)])
    codes = outcome_codes(framework, marks)[0]
    statuses = {
        o.id: framework.statuses[int(c)] for o, c in zip(framework.outcomes, codes, strict=True)
    }
    fact_rows = {k: np.array([v]) for k, v in (facts or {}).items()}
    overall = return_codes(framework, marks, fact_rows)
    return statuses, None if overall is None else framework.return_statuses[int(overall[0])]
