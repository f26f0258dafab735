"""The national view's trend: findings opened and closed per week by severity, in scope."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from tests.conftest import Run
from tests.scan.test_findings import ACTOR, T0, missing_headers, open_rdp, outcome

from bastion import orgs, scan
from bastion.cli import context
from bastion.core.scope import Scope
from bastion.core.timeutil import utcnow
from bastion.scan.read import week_of
from bastion.store import Store


def _history(store: Store, t0: datetime = T0) -> None:
    """RDP (critical) and headers (medium) found on ``t0`` (T0: a Tuesday); headers fixed:
    confirmed closed by the scan of ``t0`` + 14 days; RDP stays open."""
    with store.session() as session:
        orgs.save_organisation(
            session,
            orgs.Organisation("A81001", "Riverside Surgery", orgs.OrgType.GP_PRACTICE),
            actor=ACTOR,
        )
        scan.record_outcome(session, outcome(open_rdp(), missing_headers(443)), actor=ACTOR, now=t0)
        for days in (7, 14):  # gone once (fixed-unconfirmed), gone again (closed)
            scan.record_outcome(
                session, outcome(open_rdp()), actor=ACTOR, now=t0 + timedelta(days=days)
            )


def _weeks(trend: list[dict[str, object]]) -> dict[str, tuple[object, object]]:
    return {str(w["week"]): (w["opened"], w["closed"]) for w in trend}


def test_trend_counts_opened_and_closed_per_week_by_severity(sqlite_store: Store) -> None:
    _history(sqlite_store)
    none = {"critical": 0, "high": 0, "medium": 0, "low": 0}
    with sqlite_store.session() as session:
        trend = scan.weekly_trend(session, Scope.everything(), weeks=4, now=T0 + timedelta(days=15))
        theirs = scan.weekly_trend(session, Scope.of(["B99999"]), weeks=4, now=T0)
    weeks = _weeks(trend)
    assert list(weeks) == ["2026-11-23", "2026-11-30", "2026-12-07", "2026-12-14"]
    assert weeks["2026-11-30"] == ({**none, "critical": 1, "medium": 1}, none)  # T0's week
    assert weeks["2026-12-07"] == (none, none)  # fixed-unconfirmed is not closed
    assert weeks["2026-12-14"] == (none, {**none, "medium": 1})  # the confirming rescan
    assert all(opened == none for opened, _ in _weeks(theirs).values())  # another member's scope


def test_national_json_carries_the_trend(bastion: Run) -> None:
    result = bastion("init")
    assert result.exit_code == 0, result.output
    t0 = utcnow() - timedelta(days=20)
    _history(context.store(), t0)
    found = json.loads(bastion("scan", "national", "--weeks", "8", "--json").output)
    assert len(found["trend"]) == 8
    opened = {w["week"]: w["opened"] for w in found["trend"] if any(w["opened"].values())}
    assert opened == {week_of(t0).isoformat(): {"critical": 1, "high": 0, "medium": 1, "low": 0}}
    closed = {w["week"]: w["closed"] for w in found["trend"] if any(w["closed"].values())}
    assert closed == {
        week_of(t0 + timedelta(days=14)).isoformat(): {
            "critical": 0,
            "high": 0,
            "medium": 1,
            "low": 0,
        }
    }
    text = bastion("scan", "national", "--weeks", "2").output
    assert "week of      opened (crit/high/med/low)" in text
    bad = bastion("scan", "national", "--weeks", "0")
    assert bad.exit_code != 0
