"""The Cyber Essentials Plus readiness score, reproducible from its formula.

    control score  = met questions of the control / questions of the control
                     (0 if any automatic-fail question of the control is not met)
    readiness      = mean of the five control scores, as a percentage (0-100)

An unanswered question counts as not met. The function works on a matrix of many
organisations' answers at once (one row each), as ``bastion.assure.rules`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bastion.assure.framework import Framework
from bastion.assure.rules import Bools, marks_matrix, marks_of


@dataclass(frozen=True)
class Readiness:
    """One organisation's readiness: the overall percentage and each control's."""

    score: float
    controls: dict[str, float]
    failed: tuple[str, ...]  # automatic-fail questions not met


def control_scores(framework: Framework, marks: Bools) -> npt.NDArray[np.float64]:
    """Return each row's control scores (rows x controls, 0-1) by the formula above."""
    scores = np.zeros((marks.shape[0], len(framework.outcomes)), np.float64)
    start = 0
    for column, control in enumerate(framework.outcomes):
        width = len(control.statements)
        block = marks[:, start : start + width]
        fatal = np.array([s.auto_fail for s in control.statements], np.bool_)
        failed = (~block[:, fatal]).any(axis=1) if fatal.any() else np.zeros(len(block), np.bool_)
        scores[:, column] = np.where(failed, 0.0, block.mean(axis=1))
        start += width
    return scores


def readiness_scores(framework: Framework, marks: Bools) -> npt.NDArray[np.float64]:
    """Return each row's readiness percentage: the mean of its control scores, times 100."""
    scores: npt.NDArray[np.float64] = control_scores(framework, marks).mean(axis=1) * 100.0
    return scores


def readiness(framework: Framework, answers: Mapping[str, bool | None]) -> Readiness:
    """Return one organisation's readiness from its Cyber Essentials answers."""
    marks = marks_matrix(framework, [marks_of(framework, answers)])
    per_control = control_scores(framework, marks)[0]
    failed = tuple(
        s.id for s in framework.statements if s.auto_fail and not answers.get(s.id, False)
    )
    return Readiness(
        score=round(float(per_control.mean() * 100.0), 2),
        controls={
            o.id: round(float(v) * 100.0, 2)
            for o, v in zip(framework.outcomes, per_control, strict=True)
        },
        failed=failed,
    )
