from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from tests.alerts.graph_server import graph_server
from tests.alerts.test_defender_pull import _alert
from tests.alerts.test_external import _federation
from typer.testing import Result

from bastion.alerts import record_alerts
from bastion.boundary.archive import write_batch
from bastion.cli import context

Run = Callable[..., Result]
SEEN = datetime(2024, 3, 1, 10, 30, tzinfo=UTC)


def candidates() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "organization.id": ["R0A", "R0A", "RXX"],
            "host.ip": ["10.1.0.5", "10.1.0.5", "10.2.0.1"],
            "@timestamp": [SEEN, SEEN, SEEN],
            "kind": ["indicator", "indicator", "rule"],
            "key": ["ind-1", "ind-1", "sigma-9"],
            "title": ["Known C2 203.0.113.9", "Known C2 203.0.113.9", "DNS tunnelling"],
            "severity": ["high", "high", "medium"],
            "blocked": [True, False, True],
            "indicator.value": ["203.0.113.9", "203.0.113.9", None],
            "event.original": ["fw line 1", "fw line 2", "dns line"],
            "log.file.path": ["/logs/fw.log", "/logs/fw.log", "/logs/dns.log"],
            "log.offset": [0, 80, 0],
            "event.dataset": ["panos.traffic", "panos.traffic", "zeek.dns"],
        }
    )


def test_alerts_list_and_show(bastion: Run) -> None:
    assert bastion("init").exit_code == 0
    opened = context.store()
    with opened.session() as session:
        record_alerts(session, candidates())
    opened.dispose()

    listed = bastion("alerts", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert sorted((r["org"], r["key"], r["count"], r["verdict"]) for r in rows) == [
        ("R0A", "ind-1", 2, "live"),
        ("RXX", "sigma-9", 1, "blocked"),
    ]
    assert rows[0]["last_seen"] == SEEN.isoformat()

    only = json.loads(bastion("alerts", "list", "--org", "rxx", "--json").stdout)
    assert [r["key"] for r in only] == ["sigma-9"]

    table = bastion("alerts", "list")
    assert "DNS tunnelling" in table.stdout
    assert "2 of 2 alerts" in table.stderr

    alert_id = next(r["id"] for r in rows if r["key"] == "ind-1")
    shown = bastion("alerts", "show", str(alert_id))
    assert shown.exit_code == 0, shown.output
    assert "fw line 2" in shown.stdout
    assert "/logs/fw.log@80" in shown.stdout
    as_json = json.loads(bastion("alerts", "show", str(alert_id), "--json").stdout)
    assert [e["raw"] for e in as_json["evidence"]] == ["fw line 1", "fw line 2"]

    missing = bastion("alerts", "show", "999")
    assert missing.exit_code == 1
    assert "no alert with id 999" in missing.stderr


def test_hunt_prints_json_rows_with_iso_timestamps(bastion: Run, tmp_path: Path) -> None:
    assert bastion("init").exit_code == 0
    archive = tmp_path / "data" / "archive"
    events = pl.DataFrame(
        {
            "@timestamp": [SEEN, SEEN],
            "organization.id": ["R0A", "RXX"],
            "source.ip": ["10.1.0.5", "10.2.0.1"],
        }
    )
    write_batch(events, archive, "b-1")

    found = bastion(
        "hunt", 'SELECT org, "source.ip", "@timestamp" FROM events ORDER BY org', "--json"
    )
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout) == [
        {"org": "R0A", "source.ip": "10.1.0.5", "@timestamp": "2024-03-01T10:30:00.000000+00:00"},
        {"org": "RXX", "source.ip": "10.2.0.1", "@timestamp": "2024-03-01T10:30:00.000000+00:00"},
    ]
    capped = bastion("hunt", "SELECT org FROM events", "--limit", "1")
    assert capped.stdout.splitlines()[0].strip() == "org"
    assert len(capped.stdout.splitlines()) == 2
    assert "limit reached" in capped.stderr

    bad = bastion("hunt", "SELECT nope FROM events")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("bastion: error: hunt query failed")

    pruned = json.loads(bastion("archive", "prune", "--older-than", "30", "--json").stdout)
    assert pruned["files_removed"] == 1  # one staged file: the batch was not compacted
    assert not list(archive.rglob("*.parquet"))


def _with_alerts(bastion: Run) -> dict[str, int]:
    assert bastion("init").exit_code == 0
    opened = context.store()
    with opened.session() as session:
        record_alerts(session, candidates())
    opened.dispose()
    return {a["key"]: a["id"] for a in json.loads(bastion("alerts", "list", "--json").stdout)}


def test_ack_assign_close_note_by_id_and_by_filter_with_history(bastion: Run) -> None:
    ids = _with_alerts(bastion)
    listed = json.loads(bastion("alerts", "list", "--json").stdout)
    assert {(a["state"], a["verdict"], a["group_id"] == a["id"]) for a in listed} == {
        ("new", "live", True),
        ("new", "blocked", True),
    }
    acked = bastion("alerts", "ack", "--org", "RXX", "--reason", "triage round")
    assert (acked.exit_code, acked.stdout.strip()) == (0, "acknowledged 1 alert(s)")
    assert bastion("alerts", "assign", str(ids["ind-1"]), "--to", "soc-team").exit_code == 0
    closed = bastion(
        "alerts", "close", str(ids["ind-1"]), str(ids["sigma-9"]), "--resolution", "benign"
    )
    assert closed.stdout.strip() == "closed 2 alert(s)"
    assert bastion("alerts", "note", str(ids["ind-1"]), "-m", "called the trust").exit_code == 0
    states = {a["key"]: a for a in json.loads(bastion("alerts", "list", "--json").stdout)}
    assert {(k, a["state"], a["resolution"]) for k, a in states.items()} == {
        ("ind-1", "closed", "benign"),
        ("sigma-9", "closed", "benign"),
    }
    assert states["ind-1"]["assignee"] == "soc-team"
    changes = json.loads(bastion("alerts", "history", str(ids["sigma-9"]), "--json").stdout)
    assert [(c["field"], c["after"], c["reason"]) for c in changes] == [
        ("state", "acknowledged", "triage round"),
        ("state", "closed", None),
        ("resolution", "benign", None),
    ]
    assert json.loads(bastion("alerts", "list", "--state", "new", "--json").stdout) == []


def test_unknown_organisation_resolution_or_id_is_one_line_and_non_zero(bastion: Run) -> None:
    ids = _with_alerts(bastion)
    for argv, says in [
        (("alerts", "list", "--org", "NOPE"), "no organisation with code 'NOPE'"),
        (("alerts", "ack", "--org", "NOPE"), "no organisation with code 'NOPE'"),
        (("alerts", "close", str(ids["ind-1"]), "--resolution", "oops"), "unknown resolution"),
        (("alerts", "ack", "999999"), "no alert with id 999999"),
        (("alerts", "split", str(ids["ind-1"])), "alone in its group"),
    ]:
        result = bastion(*argv)
        assert result.exit_code != 0, argv
        assert says in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    # RXX is in no federation here, but an alert names it: it still filters
    assert bastion("alerts", "list", "--org", "RXX").exit_code == 0


def test_alerts_pull_defender_pulls_from_graph_over_http_and_again_from_its_cursor(
    bastion: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert bastion("init").exit_code == 0
    opened = context.store()
    _federation(opened)
    opened.dispose()
    monkeypatch.setenv("BASTION_DEFENDER_CLIENT_SECRET", "s3cret")
    with graph_server([_alert(n) for n in range(5)]) as (token_url, alerts_url, graph):
        where = ("--token-url", token_url, "--alerts-url", alerts_url, "--client-id", "app")
        first = bastion("alerts", "pull-defender", *where, "--json")
        assert first.exit_code == 0, first.output
        again = bastion("alerts", "pull-defender", *where)
        monkeypatch.setenv("BASTION_DEFENDER_CLIENT_SECRET", "wrong")
        refused = bastion("alerts", "pull-defender", *where)
    assert json.loads(first.stdout) == {"read": 5, "created": 5, "duplicates": 0,
                                        "unattributed": 0}  # fmt: skip
    # from its cursor: the newest alert again (``ge``), known already, nothing doubled
    assert "read 1 Defender alert(s): 0 new, 1 already stored" in again.stdout
    assert graph.filters[0] is None
    assert graph.filters[1] is not None
    assert refused.exit_code != 0
    assert "HTTP 401" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    listed = json.loads(bastion("alerts", "list", "--json").stdout)
    assert sorted(a["key"] for a in listed) == [f"defender:da-{n}" for n in range(5)]
