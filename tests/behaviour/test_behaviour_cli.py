"""`bastion behaviour`: hunt on demand (best first, JSON), results, benign, the allow-list."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.behaviour.helpers import archive, beacon_times, connections
from typer.testing import Result

Run = Callable[..., Result]


def test_hunt_lists_one_organisations_results_best_first_and_benign_feeds_the_allow_list(
    bastion: Run, tmp_path: Path
) -> None:
    assert bastion("init").exit_code == 0
    archive(
        tmp_path / "data" / "archive",
        connections(beacon_times(300, 280), "10.0.0.5", "203.0.113.90"),
        connections(beacon_times(120, 500, jitter=0.05), "10.0.0.6", "203.0.113.7"),
        connections(beacon_times(300, 280, seed=2), "10.1.0.9", "203.0.113.5", org="RBB"),
    )
    done = bastion("behaviour", "hunt", "--days", "1", "--org", "RAA", "--json")
    assert done.exit_code == 0, done.stderr
    answer = json.loads(done.stdout)
    results = answer["results"]
    assert {r["org"] for r in results} == {"RAA"}
    assert {r["host"] for r in results} == {"10.0.0.5", "10.0.0.6"}
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)  # best first
    assert scores[-1] >= 0.7
    assert answer["summary"].startswith("hunted 1 day(s): 3 result(s), 3 alerting")
    backup = next(r for r in results if r["host"] == "10.0.0.5")
    benign = bastion("behaviour", "benign", str(backup["id"]), "--reason", "backup agent")
    assert benign.exit_code == 0, benign.stderr
    allowed = json.loads(bastion("behaviour", "allow", "list", "--json").stdout)
    assert [(e["org"], e["kind"], e["value"]) for e in allowed] == [
        ("RAA", "address", "203.0.113.90/32")
    ]
    shown = json.loads(bastion("behaviour", "show", str(backup["id"]), "--json").stdout)
    assert shown["status"] == "benign"


def test_bad_input_is_one_line(bastion: Run) -> None:
    assert bastion("init").exit_code == 0
    done = bastion("behaviour", "allow", "add", "colour", "red", "--reason", "x")
    assert done.exit_code == 1
    assert done.stderr.strip() == (
        "bastion: error: allow-list kind 'colour' is unknown; kinds are domain, address, fingerprint"
    )
    assert bastion("behaviour", "show", "99").exit_code == 1
    assert "--since takes a date" in bastion("behaviour", "hunt", "--since", "May").stderr
