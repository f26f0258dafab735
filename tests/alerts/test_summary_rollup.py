"""The national roll-ups (the overview's, the rules page's): what they answer is what the
alerts themselves say."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.alerts.test_store import hits

from bastion.alerts import (
    AlertFilter,
    ExternalAlert,
    count_alerts,
    list_alerts,
    raise_external,
    record_alerts,
    triage,
)
from bastion.alerts.models import AlertSummaryRow
from bastion.alerts.rollup import SEEN_DAYS, midnight, whole_days
from bastion.alerts.summary import (
    RULE_COUNTS,
    AlertSummary,
    count_alerts_live,
    count_rule_alerts,
    from_alerts,
    refresh_summary,
    refresh_verdicts,
    rule_alerts_from_alerts,
    summarise_alerts,
)
from bastion.audit import Actor
from bastion.core.timeutil import utcnow
from bastion.store import Store

TOP = 3


def _events(at: datetime, key: str, org: str, *, n: int = 1, **fields: Any) -> pl.DataFrame:
    """``n`` events at ``at`` of one alert's identity (an indicator's unless told)."""
    return hits(*range(n), key=key, organization__id=org, **{"@timestamp": at}, **fields)


def _rule(at: datetime, rule: str, org: str, *, n: int = 1, **fields: Any) -> pl.DataFrame:
    return _events(at, f"sigma:{rule}", org, n=n, kind="rule", title=f"Rule {rule}",
                   indicator__type=None, indicator__value=None, **fields)  # fmt: skip


def _both(store: Store, since: datetime) -> tuple[AlertSummary, AlertSummary, bool]:
    """The summary as the overview reads it, the one straight from the alerts, and whether
    reading it summed the past days again (its totals, read the fast way, checked too)."""
    with store.session() as session:
        rebuilt = refresh_summary(session, since.date(), utcnow().date())
        rolled = summarise_alerts(session, orgs=None, since=since, top=TOP)
        direct = from_alerts(session, orgs=None, since=since, top=TOP)
        _totals_match(session)
    return rolled, direct, rebuilt


def _totals_match(session: Session) -> int:
    """Check the national totals read from the verdicts' day counts against a count of the
    alerts; return how many past days reading them counted again."""
    recounted = refresh_verdicts(session, utcnow().date())
    live = count_alerts(session, AlertFilter(verdict="live"))
    assert count_alerts_live(session, orgs=None) == (count_alerts(session, AlertFilter()), live)
    return recounted


def test_the_roll_up_answers_as_the_alerts_do_through_every_change(store: Store) -> None:
    now = utcnow()
    today = now.date()
    since = midnight(today - timedelta(days=13))

    def day(n: int, hour: int, minute: int = 0) -> datetime:  # n days ago, at hour:minute
        return midnight(today - timedelta(days=n)) + timedelta(hours=hour, minutes=minute)

    with store.session() as session:
        for batch in (
            _events(day(1, 9), "ipv4:a", "RAL", n=5, indicator__value="198.51.100.1"),
            _events(day(2, 9), "ipv4:b", "RJ1", n=4, indicator__value="198.51.100.2"),
            _events(day(3, 23, 40), "ipv4:c", "RXX", n=2, indicator__value="198.51.100.3"),
            _events(day(1, 23, 50), "ipv4:d", "RYY", indicator__value="198.51.100.4"),
            _events(day(14, 9), "ipv4:e", "RZZ", n=9),  # before the fortnight
            _rule(day(5, 9), "r1", "RAL", n=3), _rule(day(6, 9), "r1", "RJ1", n=3),
            _rule(day(2, 9), "r2", "RXX", n=4), _events(day(0, 0, 1), "ipv4:f", "RJ1", n=2),
        ):  # fmt: skip
            record_alerts(session, batch, now=now)
    rolled, direct, rebuilt = _both(store, since)
    assert rebuilt  # the first reader sums the past days
    assert rolled == direct
    assert rolled.top_orgs[:2] == [("RJ1", 9), ("RAL", 8)]  # RJ1: 2 events today, 7 before
    rolled, direct, rebuilt = _both(store, since)
    assert (rolled, rebuilt) == (direct, False)  # nothing changed: read from the roll-up

    with store.session() as session:  # a past alert extended onto the next day, gone live
        record_alerts(session, _events(day(2, 0, 20), "ipv4:c", "RXX", n=3, blocked=False,
                                       indicator__value="198.51.100.3"), now=now)  # fmt: skip
    rolled, direct, rebuilt = _both(store, since)
    assert (rolled, rebuilt) == (direct, True)
    assert rolled.per_day[today - timedelta(days=2)] == (3, 2)  # b, r2 (blocked), c (live)
    assert today - timedelta(days=3) not in rolled.per_day  # c has left its day

    with store.session() as session:  # and one from yesterday onto today
        record_alerts(session, _events(day(0, 0, 5), "ipv4:d", "RYY", n=12,
                                       indicator__value="198.51.100.4"), now=now)  # fmt: skip
    rolled, direct, rebuilt = _both(store, since)
    assert (rolled, rebuilt) == (direct, True)  # yesterday has lost it
    assert rolled.top_orgs[0] == ("RYY", 13)  # twelve events today on one seen yesterday

    with store.session() as session:  # an external alert, of four days ago
        raise_external(session, [ExternalAlert("defender", "x1", "Ransomware", "high",
                                               day(4, 12), org="RAL")])  # fmt: skip
    rolled, direct, rebuilt = _both(store, since)
    assert (rolled, rebuilt) == (direct, True)
    assert ("RAL", 9) in rolled.top_orgs

    with store.session() as session:  # a retro-hunt's new alert, of five days ago
        record_alerts(session, _rule(day(5, 3), "r3", "RQQ", n=20), retrospective=True, now=now)
    rolled, direct, rebuilt = _both(store, since)
    assert (rolled, rebuilt) == (direct, True)
    assert rolled.top_orgs[0] == ("RQQ", 20)

    with store.session() as session:  # triage changes no figure of the overview
        ids = [a.id for a in list_alerts(session)[0]]
        triage.close(session, Actor.cli("ana"), ids[:3], "benign")
        triage.assign(session, Actor.cli("ana"), ids[3:5], "bob")
    assert _both(store, since) == (direct, direct, False)
    with store.session() as session:  # summed five times, numbered from 1 each time
        last, rows = session.execute(select(func.max(AlertSummaryRow.id), func.count())).one()
    assert last == rows


def test_today_is_added_to_the_past_days_for_the_top(store: Store) -> None:
    now, today = utcnow(), utcnow().date()
    since = midnight(today - timedelta(days=13))
    past = midnight(today - timedelta(days=1))
    with store.session() as session:  # four organisations' past sums: 9, 8, 7, 6 events
        for org, n in (("RA1", 9), ("RB1", 8), ("RC1", 7), ("RD1", 6)):
            record_alerts(session, _events(past, f"ipv4:{org}", org, n=n), now=now)
    _both(store, since)
    with store.session() as session:  # today: RD1 climbs past all, RC1 ties RB1
        for org, n in (("RD1", 5), ("RC1", 1), ("RE1", 2)):
            record_alerts(session, _events(midnight(today), f"ipv4:{org}t", org, n=n), now=now)
    rolled, direct, rebuilt = _both(store, since)
    assert (rolled, rebuilt) == (direct, False)  # today's alerts leave the past days be
    assert rolled.top_orgs == [("RD1", 11), ("RA1", 9), ("RB1", 8)]
    assert rolled.per_day == {today - timedelta(days=1): (4, 4), today: (3, 3)}


def test_a_member_or_a_period_not_from_midnight_is_summed_from_the_alerts(store: Store) -> None:
    now, today = utcnow(), utcnow().date()
    with store.session() as session:
        record_alerts(session, _events(midnight(today) - timedelta(hours=3), "ipv4:a", "RAL"),
                      now=now)  # fmt: skip
        member = summarise_alerts(session, orgs=["RAL"], since=midnight(today - timedelta(1)),
                                  top=TOP)  # fmt: skip
        since = now - timedelta(days=2)
        partial = summarise_alerts(session, orgs=None, since=since, top=TOP)
        assert partial == from_alerts(session, orgs=None, since=since, top=TOP)
        assert session.scalar(select(func.count()).select_from(AlertSummaryRow)) == 0
    assert member.per_day == {today - timedelta(days=1): (1, 1)}


def _rule_counts(store: Store, since: datetime) -> tuple[list[Any], list[Any], bool]:
    """The rules page's national counts as it reads them, those straight from the alerts,
    and whether reading them counted the past days again."""
    today = utcnow().date()
    with store.session() as session:
        first = whole_days(since, utcnow(), today)[0]
        rebuilt = refresh_summary(session, first, today, RULE_COUNTS)
        rolled = count_rule_alerts(session, since=since, orgs=None)
        direct = rule_alerts_from_alerts(session, since=since, orgs=None)
        _totals_match(session)
    return sorted(rolled), sorted(direct), rebuilt


def test_the_rules_roll_up_counts_as_the_alerts_do_through_every_change(store: Store) -> None:
    now = utcnow()
    today = now.date()
    since = now - timedelta(days=7)  # the rules page's week: not from a midnight

    def day(n: int, hour: int, minute: int = 0) -> datetime:  # n days ago, at hour:minute
        return midnight(today - timedelta(days=n)) + timedelta(hours=hour, minutes=minute)

    def check(kind: str, at: datetime, org: str, n: int = 1) -> pl.DataFrame:
        return _events(at, f"builtin:{kind}:198.51.100.{n}", org, n=n, kind="rule",
                       title=kind, indicator__type=None, indicator__value=None)  # fmt: skip

    with store.session() as session:
        for batch in (
            _rule(day(1, 9), "r1", "RAL", n=3), _rule(day(3, 23, 40), "r1", "RJ1"),
            _rule(day(2, 9), "r2 {10.0.0.9}", "RXX"), _rule(day(5, 9), "r2 {10.0.0.8}", "RXX"),
            check("port-scan", day(4, 9), "RAL"), check("port-scan", day(6, 9), "RJ1", n=2),
            _rule(since + timedelta(minutes=5), "r3", "RAL"),  # the part day, inside
            _rule(since - timedelta(minutes=5), "r4", "RAL"),  # before the week
            _rule(day(0, 0, 1), "r1", "RYY"), _rule(day(1, 23, 50), "r6", "RAL"),
            _events(day(2, 9), "ipv4:a", "RAL"),
        ):  # fmt: skip
            record_alerts(session, batch, now=now)
    rolled, direct, rebuilt = _rule_counts(store, since)
    assert rebuilt  # the first reader counts the past days
    assert rolled == direct
    for counted in (("sigma:", "r1", 3), ("sigma:", "r3", 1), ("sigma:", "r2", 2),
                    ("builtin:", "builtin:port-scan", 2)):  # fmt: skip
        assert counted in rolled
    assert _rule_counts(store, since) == (rolled, direct, False)  # read from the roll-up

    changes = (  # alerts extended (within the hour): across past days, onto today, new events
        (_rule(day(2, 0, 20), "r1", "RJ1"), True),
        (_rule(day(0, 0, 5), "r6", "RAL"), True),
        (check("port-scan", day(4, 9, 30), "RAL"), True),
        (_rule(since + timedelta(minutes=20), "r4", "RAL"), None),  # into the week
    )
    for n, (change, counted) in enumerate(changes):
        with store.session() as session:
            record_alerts(session, change, now=now)
        rolled, direct, rebuilt = _rule_counts(store, since)
        assert (n, rolled) == (n, direct)
        assert counted is None or rebuilt == counted
    assert ("sigma:", "r4", 1) in rolled  # extended into the week

    with store.session() as session:  # a retro-hunt's new alert, of five days ago
        record_alerts(session, _rule(day(5, 3), "r5", "RQQ", n=4), retrospective=True, now=now)
    rolled, direct, rebuilt = _rule_counts(store, since)
    assert (rolled, rebuilt) == (direct, True)
    assert ("sigma:", "r5", 1) in rolled

    with store.session() as session:  # triage changes no count
        ids = [a.id for a in list_alerts(session)[0]]
        triage.close(session, Actor.cli("ana"), ids[:3], "benign")
        triage.assign(session, Actor.cli("ana"), ids[3:5], "bob")
    with store.session() as session:
        assert not _totals_match(session)  # nor any total
    assert _rule_counts(store, since) == (direct, direct, False)
    with store.session() as session:  # only the rules asked for
        asked = count_rule_alerts(session, since=since, orgs=None, rules={"r1", "r5"})
    assert sorted(asked) == [r for r in direct if r[1] in {"r1", "r5"}]


def test_a_change_to_a_past_day_counts_that_day_again_not_the_history(store: Store) -> None:
    now, today = utcnow(), utcnow().date()

    def day(n: int, hour: int, minute: int = 0) -> datetime:  # n days ago, at hour:minute
        return midnight(today - timedelta(days=n)) + timedelta(hours=hour, minutes=minute)

    with store.session() as session:
        for n in range(1, 31):  # a month of past days, an alert a day, and one today
            record_alerts(session, _events(day(n, 9), f"ipv4:{n}", "RAL", blocked=n % 3 == 0,
                                           indicator__value=f"198.51.100.{n}"), now=now)  # fmt: skip
        record_alerts(session, _events(day(0, 1), "ipv4:t", "RJ1"), now=now)
    with store.session() as session:
        assert _totals_match(session) == 30  # the first reader counts every past day
    with store.session() as session:
        assert _totals_match(session) == 0  # then nothing changed: no day is counted

    with store.session() as session:  # a second alert late on day 9, extended onto day 8, live
        record_alerts(session, _events(day(9, 23, 50), "ipv4:9", "RAL", blocked=True,
                                       indicator__value="198.51.100.9"), now=now)  # fmt: skip
        record_alerts(session, _events(day(8, 0, 10), "ipv4:9", "RAL", blocked=False,
                                       indicator__value="198.51.100.9"), now=now)  # fmt: skip
    with store.session() as session:
        assert _totals_match(session) == 2  # the day it left and the day it reached
    with store.session() as session:  # a retro-hunt's new alert of twelve days ago
        record_alerts(session, _rule(day(12, 3), "r1", "RQQ"), retrospective=True, now=now)
        raise_external(session, [ExternalAlert("defender", "x1", "Ransomware", "high",
                                               day(40, 12), org="RAL")])  # fmt: skip
    with store.session() as session:
        assert _totals_match(session) == 2  # its day, and a day no alert had before
        assert count_alerts_live(session, orgs=None)[0] == 34


def test_the_first_count_reads_alerts_from_before_days_were_versioned(store: Store) -> None:
    # Alerts recorded before ``alert_summary_days`` existed have days without a version:
    # the first count finds them, gives their days version 0, and sees their next change.
    now, today = utcnow(), utcnow().date()
    at = midnight(today - timedelta(days=3)) + timedelta(hours=9)
    with store.session() as session:
        record_alerts(session, _events(at, "ipv4:a", "RAL", n=2), now=now)
        session.execute(SEEN_DAYS.delete())  # as if recorded before the upgrade
    with store.session() as session:
        assert _totals_match(session) == 1
        assert session.execute(select(SEEN_DAYS.c.day, SEEN_DAYS.c.version)).all() == [
            (today - timedelta(days=3), 0)
        ]
    with store.session() as session:
        record_alerts(session, _events(at + timedelta(minutes=5), "ipv4:a", "RAL", blocked=False),
                      now=now)  # fmt: skip
    with store.session() as session:
        assert _totals_match(session) == 1
