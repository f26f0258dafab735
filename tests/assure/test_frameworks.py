"""The framework libraries: CAF v3.2 and v4.0 from the shared data, DSPT and Cyber Essentials shipped."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from bastion.assure.framework import Framework, Outcome
from bastion.assure.library import parse_library, read_library, shipped_library
from bastion.assure.rules import derive_one, marks_matrix, marks_of, outcome_codes
from bastion.core.errors import InputError

CATEGORIES = ("achieved", "partially-achieved", "not-achieved")


def caf(shared_data: Path, version: str) -> Framework:
    return read_library(shared_data / "assurance" / f"ncsc-caf-v{version}.yaml")


def raw_caf(shared_data: Path, version: str) -> dict[str, Any]:
    """The CAF file as YAML gives it (with the C loader: the pure-Python one takes a second)."""
    text = (shared_data / f"assurance/ncsc-caf-v{version}.yaml").read_text()
    found: dict[str, Any] = yaml.load(text, Loader=yaml.CSafeLoader)
    return found


def rich_outcome(framework: Framework) -> Outcome:
    """An outcome with at least two statements in every category (so 'some' can be chosen)."""
    return next(
        o for o in framework.outcomes
        if all(sum(s.category == c for s in o.statements) >= 2 for c in CATEGORIES)
    )  # fmt: skip


def select(outcome: Outcome, states: dict[str, str]) -> dict[str, bool | None]:
    """Answer ``outcome`` so each category is all, some or none selected."""
    answers: dict[str, bool | None] = {}
    for category, state in states.items():
        ids = [s.id for s in outcome.statements if s.category == category]
        chosen = {"all": ids, "some": ids[:1], "none": []}[state]
        answers.update({i: i in chosen for i in ids})
    return answers


def test_caf_libraries_load_every_outcome_and_statement(shared_data: Path) -> None:
    for version, outcomes in (("3.2", 39), ("4.0", 41)):
        framework = caf(shared_data, version)
        raw = raw_caf(shared_data, version)
        indicators = sum(
            len(group or {})
            for o in raw["objectives"].values() for p in o["principles"].values()
            for c in p["outcomes"].values() for group in c["indicators"].values()
        )  # fmt: skip
        assert (framework.ref, len(framework.outcomes)) == (f"ncsc-caf@{version}", outcomes)
        assert len(framework.statements) == indicators
        assert len(framework.statement_index) == indicators  # every id distinct


def test_caf_v32_every_table_key_gives_the_files_status(shared_data: Path) -> None:
    framework = caf(shared_data, "3.2")
    raw = raw_caf(shared_data, "3.2")
    table = raw["assessment-rules"]
    outcome = rich_outcome(framework)
    assert len(table) == 27
    for key, expected in table.items():
        states = dict(zip(CATEGORIES, key.split("_"), strict=True))
        statuses, _ = derive_one(framework, select(outcome, states))
        assert statuses[outcome.id] == expected["outcome_status"], key


def test_caf_v40_every_numbered_rule_and_the_fallback(shared_data: Path) -> None:
    framework = caf(shared_data, "4.0")
    raw = raw_caf(shared_data, "4.0")
    outcome = rich_outcome(framework)
    status = {"achieved": "Achieved", "partially-achieved": "Partially achieved",
              "not-achieved": "Not achieved"}  # fmt: skip
    for category, quantifier in raw["assessment-rules"].values():
        # Only this rule's condition holds: its category all (or one) selected, nothing else.
        states = dict.fromkeys(CATEGORIES, "none") | {
            category: "all" if quantifier == "all" else "some"
        }
        statuses, _ = derive_one(framework, select(outcome, states))
        assert statuses[outcome.id] == status[category], (category, quantifier)
    # Any not-achieved statement outweighs every achieved one; nothing selected is Not achieved.
    both = select(
        outcome, {"achieved": "all", "partially-achieved": "none", "not-achieved": "some"}
    )
    assert derive_one(framework, both)[0][outcome.id] == "Not achieved"
    nothing = select(outcome, dict.fromkeys(CATEGORIES, "none"))
    assert derive_one(framework, nothing)[0][outcome.id] == "Not achieved"


def test_caf_profiles_come_from_the_file(shared_data: Path) -> None:
    framework = caf(shared_data, "3.2")
    a1a = framework.outcome("A1.a")
    assert framework.required(a1a, "baseline") == "Achieved"
    assert framework.profile_of("gp_practice") == "baseline"
    assert framework.profile_of("trust") == "enhanced"
    assert framework.meets("Partially achieved", "Achieved") is False


def test_vectorised_derivation_matches_one_by_one(shared_data: Path) -> None:
    framework = caf(shared_data, "4.0")
    rng = np.random.default_rng(7)
    rows = ["".join(rng.choice(list("10."), len(framework.statements))) for _ in range(50)]
    codes = outcome_codes(framework, marks_matrix(framework, rows))
    for row, expected in zip(rows, codes, strict=True):
        answers = {
            s.id: {"1": True, "0": False}.get(c)
            for s, c in zip(framework.statements, row, strict=True)
        }
        statuses, _ = derive_one(framework, answers)
        assert [framework.statuses.index(statuses[o.id]) for o in framework.outcomes] == list(
            expected
        )
        assert marks_of(framework, answers) == row


@pytest.mark.parametrize(
    ("mandatory", "facts", "expected"),
    [
        (True, {"ce_plus_certificate": True}, "Standards Exceeded"),
        (True, {"ce_plus_certificate": False}, "Standards Met"),
        (True, {"improvement_plan_published": True}, "Standards Met"),
        (
            False,
            {"improvement_plan_published": True, "ce_plus_certificate": True},
            "Approaching Standards",
        ),
        (False, {}, "Not Met"),
    ],
)
def test_dspt_return_rule_as_the_yaml_writes_it(
    mandatory: bool, facts: dict[str, bool], expected: str
) -> None:
    framework = shipped_library("dspt")
    assert len(framework.outcomes) == 10
    answers: dict[str, bool | None] = {
        s.id: s.category == "mandatory" and (mandatory or s.id != "8.2")
        for s in framework.statements
    }
    statuses, overall = derive_one(framework, answers, facts)
    assert overall == expected
    assert statuses["8"] == ("Met" if mandatory else "Not met")
    assert statuses["1"] == "Met"  # non-mandatory items unmet do not matter


def test_cyber_essentials_has_the_five_controls() -> None:
    framework = shipped_library("cyber-essentials")
    assert [o.title for o in framework.outcomes] == [
        "Firewalls", "Secure configuration", "Security update management", "Malware protection",
        "User access control",
    ]  # fmt: skip


def test_a_bad_library_names_the_field() -> None:
    text = (Path(__file__).parents[2] / "src/bastion/assure/data/dspt.yaml").read_text()
    broken = text.replace("kind: dspt", "kind: iso27001", 1)
    with pytest.raises(InputError, match=r"kind: 'iso27001' is not one of"):
        parse_library(broken, "dspt.yaml")
    with pytest.raises(InputError, match="not list"):
        parse_library(text.replace("status: Met\n", "status: Fine\n", 1), "dspt.yaml")


def test_table_keys_cover_every_combination(shared_data: Path) -> None:
    raw = raw_caf(shared_data, "3.2")
    combos = {"_".join(p) for p in itertools.product(("all", "some", "none"), repeat=3)}
    assert set(raw["assessment-rules"]) == combos
