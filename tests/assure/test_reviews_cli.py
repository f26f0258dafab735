"""`bastion assure reviews` and `assure plan`: assign, submit, return, approve; plan add, close."""

from __future__ import annotations

import json

import pytest
from tests.assure.test_cli import ok
from tests.conftest import Run


@pytest.mark.slow
def test_a_review_goes_to_clarification_then_approved_and_the_plan_is_closed(
    bastion: Run,
) -> None:
    ok(bastion("init"))
    ok(bastion("orgs", "add", "RAA", "Alpha Trust", "--type", "trust"))
    ok(bastion("assure", "frameworks", "import", "dspt"))
    made = json.loads(ok(bastion("assure", "returns", "open", "RAA", "2024-25", "--json")))
    rid = str(made["id"])
    ok(bastion("assure", "reviews", "assign", rid, "independent", "iris.reviewer"))
    ok(bastion("assure", "reviews", "submit", rid, "independent", "--outcome", "8",
               "--comment", "Patch evidence read"))  # fmt: skip
    returned = bastion("assure", "reviews", "return", rid, "independent", "--outcome", "7",
                       "--comment", "When was the restore last tested?")  # fmt: skip
    assert "independent review by iris.reviewer: needs_clarification" in ok(returned)
    listed = json.loads(ok(bastion("assure", "reviews", "list", "--state", "needs clarification",
                                   "--json")))  # fmt: skip
    assert [(r["return_id"], r["kind"], r["reviewer"], r["comments"]) for r in listed] == [
        (made["id"], "independent", "iris.reviewer", 2)
    ]
    refused = bastion("assure", "returns", "publish", rid)
    assert refused.exit_code != 0
    assert "reviews not completed (independent)" in refused.output
    ok(bastion("assure", "reviews", "approve", rid, "independent"))
    shown = json.loads(ok(bastion("assure", "reviews", "show", rid, "--json")))
    [review] = shown["reviews"]
    assert review["state"] == "completed"
    assert [n["text"] for n in review["comments"]["7"]] == ["When was the restore last tested?"]
    assert review["comments"]["8"][0]["by"] == "iris.reviewer"
    assert json.loads(ok(bastion("assure", "reviews", "list", "--state", "to_do", "--json"))) == []
    bad = bastion("assure", "reviews", "list", "--state", "pondering")
    assert bad.exit_code != 0
    assert "unknown review state 'pondering'" in bad.output
    # The improvement plan: add an action, list it, close it.
    added = json.loads(ok(bastion("assure", "plan", "add", rid, "7", "Test a restore each quarter",
                                  "--owner", "IT lead", "--due", "2025-03-31", "--json")))  # fmt: skip
    [action] = added
    assert (action["outcome"], action["owner"], action["due"], action["status"]) == (
        "7", "IT lead", "2025-03-31", "open")  # fmt: skip
    ok(bastion("assure", "plan", "close", str(action["action"])))
    [closed] = json.loads(ok(bastion("assure", "plan", "list", rid, "--json")))
    assert closed["status"] == "done"
    assert "Test a restore" in ok(bastion("assure", "plan", "list", rid))
    unknown = bastion(
        "assure", "plan", "add", rid, "99", "x", "--owner", "o", "--due", "2025-01-01"
    )
    assert unknown.exit_code != 0
    assert "has no outcome '99'" in unknown.output
    ok(bastion("assure", "returns", "publish", rid))
