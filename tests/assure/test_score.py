"""The readiness score reproduces its documented formula."""

from __future__ import annotations

from statistics import mean

from bastion.assure.library import shipped_library
from bastion.assure.rules import marks_matrix
from bastion.assure.score import readiness, readiness_scores


def test_readiness_is_the_mean_of_control_shares_with_auto_fail_zeroing() -> None:
    framework = shipped_library("cyber-essentials")
    answers: dict[str, bool | None] = {s.id: True for s in framework.statements}
    answers["fw.4"] = False  # firewalls: 3 of 4, no automatic fail
    answers["ua.3"] = None  # access: unanswered counts as not met: 3 of 4
    answers["sc.3"] = False
    answers["up.2"] = False  # a missed 14-day fix: updates is zero whatever else
    result = readiness(framework, answers)
    by_formula = mean([3 / 4, 3 / 4, 0.0, 1.0, 3 / 4]) * 100
    assert result.controls == {"firewalls": 75.0, "config": 75.0, "updates": 0.0, "malware": 100.0,
                               "access": 75.0}  # fmt: skip
    assert result.score == round(by_formula, 2) == 65.0
    assert result.failed == ("up.2",)


def test_vectorised_scores_agree_with_one_by_one() -> None:
    framework = shipped_library("cyber-essentials")
    rows = ["1" * len(framework.statements), "0" * len(framework.statements),
            "1" * 10 + "0" + "1" * (len(framework.statements) - 11)]  # fmt: skip
    scores = readiness_scores(framework, marks_matrix(framework, rows))
    assert list(scores.round(2)) == [100.0, 0.0, readiness(framework, {
        s.id: c == "1" for s, c in zip(framework.statements, rows[2], strict=True)}).score]  # fmt: skip
