"""The national picture: the real 2023-11-16 DSPT snapshot reproduces its published counts."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from tests.assure.conftest import ACTOR, EVERYTHING

from bastion.assure.national import dashboard, peer_position
from bastion.assure.returns import open_return, publish, update_return
from bastion.assure.snapshot import import_snapshot
from bastion.core.errors import NotFoundError
from bastion.core.scope import Scope
from bastion.store import Store

SNAPSHOTS = ("dspt-trusts-snapshot-2023-11-16.csv", "dspt-icb-snapshot-2023-11-16.csv")


def published_counts(path: Path) -> Counter[str]:
    """The file's own status counts, read independently of the importer."""
    with path.open(encoding="utf-8-sig") as handle:
        return Counter(r["Status"].removeprefix("22/23 ") for r in csv.DictReader(handle))


def late_in(path: Path) -> set[str]:
    """Codes the file lists as published after 30 June 2023, or not published."""
    with path.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    return {
        r["Code"] for r in rows
        if r["Status"] == "Not Published"
        or datetime.strptime(r["Date Of Publication"], "%d/%m/%Y").date() > date(2023, 6, 30)
    }  # fmt: skip


def test_the_snapshot_reproduces_its_published_status_counts(
    federation: Store, shared_data: Path
) -> None:
    expected: Counter[str] = Counter()
    with federation.session() as session:
        for name in SNAPSHOTS:
            report = import_snapshot(session, shared_data / "assurance" / name, actor=ACTOR)
            expected += published_counts(shared_data / "assurance" / name)
            assert report.periods == ("2022-23",)
        shown = dashboard(session, EVERYTHING, "2022-23", today=date(2023, 11, 16))
    assert shown.statuses == dict(expected)
    assert shown.statuses == {"Standards Met": 172, "Approaching Standards": 58, "Standards Exceeded": 22,
                              "Not Published": 1}  # fmt: skip
    assert sum(shown.by_type["trust"].values()) == 211
    assert sum(shown.by_type["icb"].values()) == 42
    # Published after 30 June 2023, or not at all by the snapshot's date.
    late = {r["org"] for r in shown.late}
    assert "R0A" not in late  # Manchester: 30/06/2023
    assert late == set().union(*(late_in(shared_data / "assurance" / n) for n in SNAPSHOTS))
    # RAL, RKE and QMJ are real codes the snapshot lists; the GP practice is not in it: missing.
    assert shown.missing == ["F83001"]


def test_reimporting_replaces_rather_than_doubles(federation: Store, shared_data: Path) -> None:
    path = shared_data / "assurance" / SNAPSHOTS[1]
    with federation.session() as session:
        import_snapshot(session, path, actor=ACTOR)
        import_snapshot(session, path, actor=ACTOR)
        assert sum(dashboard(session, EVERYTHING, "2022-23").statuses.values()) == 42


def test_weakest_outcomes_readiness_and_a_members_peer_position(federation: Store) -> None:
    with federation.session() as session:
        for code, meets in (("RAL", True), ("RKE", False)):
            dspt = open_return(session, code, "2024-25", "dspt", actor=ACTOR, scope=EVERYTHING)
            answers = {s.id: meets or s.id != "8.2" for o in dspt.outcomes for s in o.statements}
            update_return(session, dspt.id, actor=ACTOR, scope=EVERYTHING, answers=answers)
            publish(session, dspt.id, actor=ACTOR, scope=EVERYTHING)
            ce = open_return(
                session, code, "2024-25", "cyber-essentials", actor=ACTOR, scope=EVERYTHING
            )
            answers = {s.id: meets or s.id != "fw.4" for o in ce.outcomes for s in o.statements}
            update_return(session, ce.id, actor=ACTOR, scope=EVERYTHING, answers=answers)
            publish(
                session, ce.id, actor=ACTOR, scope=EVERYTHING, now=datetime(2025, 1, 5, tzinfo=UTC)
            )
        shown = dashboard(session, EVERYTHING, "2024-25")
        assert shown.statuses == {"Standards Met": 1, "Not Met": 1}
        assert shown.weakest[0] == {"outcome": "8", "title": "No unsupported operating systems, software or "
                                    "browsers are in use", "share_not_best": 0.5, "returns": 2}  # fmt: skip
        assert shown.readiness_bands["90-100"] == 2  # 100 and 95 (firewalls 3 of 4)
        assert shown.readiness_trend == [{"month": "2025-01", "mean": 97.5, "scores": 2}]
        own = peer_position(session, "RKE", Scope.of(["RKE"]))
        assert (own.status, own.peers, own.peer_statuses) == ("Not Met", 1, {"Standards Met": 1})
        assert (own.readiness, own.readiness_percentile) == (95.0, 0.0)
        with pytest.raises(NotFoundError):
            peer_position(session, "RAL", Scope.of(["RKE"]))
        # A member's dashboard holds only its own organisation.
        assert dashboard(session, Scope.of(["RKE"]), "2024-25").statuses == {"Not Met": 1}


def test_a_cached_dashboard_sees_every_change(federation: Store) -> None:
    with federation.session() as session:
        made = open_return(session, "RAL", "2024-25", "dspt", actor=ACTOR, scope=EVERYTHING)
        assert dashboard(session, EVERYTHING, "2024-25").statuses == {"Not Published": 1}
        publish(session, made.id, actor=ACTOR, scope=EVERYTHING)
        assert dashboard(session, EVERYTHING, "2024-25").statuses == {"Not Met": 1}
