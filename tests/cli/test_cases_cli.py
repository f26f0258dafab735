"""`bastion cases`: promote an alert, work the case, close it, and read the response times."""

from __future__ import annotations

import json
from collections.abc import Callable

import polars as pl
from tests.cases.conftest import indicator_hit
from typer.testing import Result

from bastion.alerts import list_alerts, record_alerts
from bastion.cli import context

Run = Callable[..., Result]


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def test_promote_work_close_and_measure_a_case(bastion: Run) -> None:
    ok(bastion("init"))
    ok(bastion("orgs", "add", "RAL", "Royal Free", "--type", "trust"))
    opened = context.store()
    with opened.session() as session:
        record_alerts(session, pl.DataFrame([indicator_hit("RAL")]))
        [alert], _ = list_alerts(session)
    opened.dispose()

    made = json.loads(
        ok(bastion("cases", "create", "--from-alert", str(alert.id), "--title", "C2 beacon",
                   "--template", "Ransomware precursor", "--json"))
    )  # fmt: skip
    assert (made["title"], made["organisations"], made["severity"]) == (
        "C2 beacon",
        ["RAL"],
        "high",
    )
    case_id = str(made["id"])
    ok(bastion("cases", "note", case_id, "isolated the host"))
    ok(bastion("cases", "assign", case_id, "soc-team"))
    ok(bastion("cases", "close", case_id, "--resolution", "true positive, contained"))

    shown = json.loads(ok(bastion("cases", "show", case_id, "--json")))
    assert shown["alerts"] == [alert.id]
    assert [o["value"] for o in shown["observables"]] == ["203.0.113.66"]
    assert len(shown["tasks"]) == 6
    assert [e["kind"] for e in shown["timeline"]] == ["status", "alert", "note", "status", "status"]
    text = ok(bastion("cases", "show", case_id))
    assert "clock: Sector incident report" in text
    assert "isolated the host" in text

    listed = json.loads(ok(bastion("cases", "list", "--json")))
    assert [(c["id"], c["status"], c["owner"]) for c in listed] == [
        (made["id"], "closed", "soc-team")
    ]
    assert json.loads(ok(bastion("cases", "list", "--open", "--json"))) == []

    stats = json.loads(ok(bastion("cases", "stats", "--json")))
    assert (stats["overall"]["cases"], stats["overall"]["closed"]) == (1, 1)
    assert stats["overall"]["mttr_seconds"] is not None
    assert "MTTR" in ok(bastion("cases", "stats"))


def test_case_errors_are_one_line_with_a_non_zero_exit(bastion: Run) -> None:
    ok(bastion("init"))
    missing = bastion("cases", "create", "--from-alert", "99", "--title", "x")
    assert missing.exit_code == 1
    assert missing.stderr.strip().count("\n") == 0
    assert "no alert with id 99" in missing.stderr
    bad = bastion("cases", "merge", "1")
    assert (bad.exit_code, "merge one thing" in bad.stderr) == (1, True)
    assert bastion("cases", "show", "5").exit_code == 1
