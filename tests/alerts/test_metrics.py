from __future__ import annotations

from datetime import timedelta

import pytest
from tests.alerts.test_store import hits

from bastion.alerts import list_alerts, record_alerts, response_metrics, triage
from bastion.audit import Actor
from bastion.core.timeutil import utcnow
from bastion.store import Store

ANA = Actor.cli("ana")


def test_mtta_mttr_and_share_acknowledged_within_target_come_from_the_transitions(
    store: Store,
) -> None:
    now = utcnow()
    with store.session() as session:
        # created 30 minutes and two days ago (high), and one low alert of another org
        record_alerts(session, hits(0, key="recent"), now=now - timedelta(minutes=30))
        record_alerts(session, hits(0, key="old"), now=now - timedelta(days=2))
        record_alerts(
            session,
            hits(0, key="other", severity="low", **{"organization.id": "RJ1"}),
            now=now - timedelta(hours=3),
        )
        ids = {a.key: a.id for a in list_alerts(session)[0]}
    with store.session() as session:
        triage.acknowledge(session, ANA, [ids["recent"]])
        triage.assign(session, ANA, [ids["old"]], "soc")  # straight from new: acknowledged now
        triage.close(session, ANA, [ids["old"]], "benign")
    with store.session() as session:
        national = response_metrics(session, now - timedelta(days=7), now + timedelta(hours=1))
        member = response_metrics(
            session, now - timedelta(days=7), now + timedelta(hours=1), org="R0A"
        )
        empty = response_metrics(session, now - timedelta(days=30), now - timedelta(days=20))
    assert (national.overall.alerts, national.overall.acknowledged, national.overall.closed) == (
        3,
        2,
        1,
    )
    assert national.overall.mtta_seconds == pytest.approx((1800 + 2 * 86400) / 2, abs=60)
    assert national.overall.mttr_seconds == pytest.approx(2 * 86400, abs=60)
    assert national.by_severity["low"].acknowledged == 0
    assert set(national.by_org) == {"R0A", "RJ1"}
    # national target 1 h: the 30-minute one made it, the two-day one did not
    assert (national.urgent, national.urgent_within_target) == (2, 1)
    assert national.share_within_target == 0.5
    # member target 24 h: same answer here, but the slice is R0A's alone
    assert member.ack_target == timedelta(hours=24)
    assert (member.overall.alerts, member.urgent_within_target) == (2, 1)
    assert (empty.overall.alerts, empty.share_within_target) == (0, None)
