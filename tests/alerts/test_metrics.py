from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from tests.alerts.test_store import hits

from bastion.alerts import list_alerts, record_alerts, response_metrics, rollup, triage
from bastion.alerts.models import AlertDayRow, AlertRollupRow
from bastion.audit import Actor
from bastion.core.timeutil import utcnow
from bastion.store import Store

ANA = Actor.cli("ana")
HOUR, DAY = timedelta(hours=1), timedelta(hours=24)  # the default national and member targets


def _whole(since: datetime, until: datetime) -> tuple[date, date]:
    return rollup.whole_days(since, until, utcnow().date())


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
        national = response_metrics(
            session, now - timedelta(days=7), now + timedelta(hours=1), per_org=True
        )
        rolled = response_metrics(session, now - timedelta(days=7), now + timedelta(hours=1))
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
    assert (rolled.overall, rolled.by_severity, rolled.by_org) == (
        national.overall, national.by_severity, {}
    )  # fmt: skip
    # national target 1 h: the 30-minute one made it, the two-day one did not
    assert (national.urgent, national.urgent_within_target) == (2, 1)
    assert national.share_within_target == 0.5
    # member target 24 h: same answer here, but the slice is R0A's alone
    assert member.ack_target == timedelta(hours=24)
    assert (member.overall.alerts, member.urgent_within_target) == (2, 1)
    assert (empty.overall.alerts, empty.share_within_target) == (0, None)


def _figures(store: Store, since: datetime, until: datetime) -> tuple[object, ...]:
    with store.session() as session:
        m = response_metrics(session, since, until)
    return (m.overall, m.by_severity, m.urgent, m.urgent_within_target)


def test_past_days_come_from_their_roll_up_and_a_change_rolls_its_day_up_again(
    store: Store,
) -> None:
    now = utcnow()
    since, until = now - timedelta(days=10), now + timedelta(hours=1)
    with store.session() as session:
        for days in (1, 3, 3, 6):  # alerts created on three past days, one of them twice
            record_alerts(session, hits(0, key=f"k{days}-{utcnow()}"), now=now - timedelta(days))
        old = [a.id for a in list_alerts(session, oldest_first=True, sort="id")[0]]
    before = _figures(store, since, until)
    with store.session() as session:
        rolled = session.scalar(select(func.count()).select_from(AlertDayRow))
        first, end = _whole(since, until)
        assert rolled == (end - first).days == 9  # every whole past day, the empty ones too
        assert rollup.refresh(session, *_whole(since, until), HOUR, DAY) == 0  # all current
    assert _figures(store, since, until) == before  # read again from the roll-up alone
    with store.session() as session:  # a six-day-old alert acknowledged and closed now
        triage.close(session, ANA, [old[-1]], "benign")
        record_alerts(  # and a three-day-old one's severity raised by new events
            session, hits(1, key=list_alerts(session, sort="id")[0][0].key, severity="critical"),
            now=now - timedelta(days=1),
        )  # fmt: skip
    after = _figures(store, since, until)
    with store.session() as session:  # what a roll-up from scratch says
        session.execute(delete(AlertDayRow))
        session.execute(delete(AlertRollupRow))
    assert _figures(store, since, until) == after != before
    assert after[0].closed == 1  # type: ignore[attr-defined]


def test_a_day_changed_while_it_was_rolled_up_stays_stale(store: Store) -> None:
    now = utcnow()
    since, until = now - timedelta(days=4), now
    with store.session() as session:
        record_alerts(session, hits(0), now=now - timedelta(days=2))
        first, end = _whole(since, until)
        versions = {d.day: d for d in session.scalars(select(AlertDayRow))}
        rollup.touch(session, now - timedelta(days=2))  # bumped after a reader read versions
        rollup._mark(
            session, [first + timedelta(days=n) for n in range(4)], versions, (3600, 86400)
        )
        assert rollup.refresh(session, first, end, HOUR, DAY) == 1  # that day only, again
        assert rollup.refresh(session, first, end, HOUR, DAY) == 0
