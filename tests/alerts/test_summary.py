"""The overview's summary of alerts: per day, top organisations and sources, summed in SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bastion.alerts import AlertFilter, Source, count_alerts, summarise_alerts
from bastion.alerts.models import AlertRow
from bastion.store import Store

NOON = datetime(2026, 3, 10, 12, tzinfo=UTC)


def _row(n: int, **fields: Any) -> dict[str, Any]:
    seen = fields.pop("seen", NOON)
    return {
        "org_code": "RAL", "host": "10.0.0.1", "kind": "indicator", "key": f"ipv4:{n}",
        "title": f"alert {n}", "severity": "high", "verdict": "blocked", "retrospective": False,
        "indicator_type": None, "indicator_value": None, "indicator_source": None,
        "indicator_threat": None, "count": 1, "first_seen": seen, "last_seen": seen,
        "evidence": [], "created_at": seen, "updated_at": seen, "state": "new",
        **fields,
    }  # fmt: skip


def _store(store: Store, rows: list[dict[str, Any]]) -> None:
    with store.session() as session:
        session.execute(insert(AlertRow), rows)


def test_alerts_per_utc_day_with_the_blocked_ones(store: Store) -> None:
    _store(store, [
        _row(1), _row(2, verdict="live"),
        _row(3, seen=NOON - timedelta(days=1, hours=11, minutes=59)),  # 00:01 the day before
        _row(4, seen=NOON - timedelta(days=30)),  # before the period: left out
    ])  # fmt: skip
    with store.session() as session:
        found = summarise_alerts(session, orgs=None, since=NOON - timedelta(days=2), top=8)
    assert found.per_day == {date(2026, 3, 10): (2, 1), date(2026, 3, 9): (1, 1)}


def test_the_top_organisations_have_the_most_events_not_the_most_alerts(store: Store) -> None:
    _store(store, [
        _row(1, org_code="RAL", count=5), _row(2, org_code="RAL", count=5),
        _row(3, org_code="RJ1", count=40), _row(4, org_code=None, count=99),
        _row(5, org_code="RXX", count=1),
    ])  # fmt: skip
    with store.session() as session:
        found = summarise_alerts(session, orgs=None, since=NOON - timedelta(days=1), top=2)
        theirs = summarise_alerts(session, orgs=["RAL"], since=NOON - timedelta(days=1), top=2)
    assert found.top_orgs == [("RJ1", 40), ("RAL", 10)]  # no organisation is not one
    assert theirs.top_orgs == [("RAL", 10)]
    assert theirs.per_day == {date(2026, 3, 10): (2, 2)}


def test_sources_name_the_rule_or_the_indicator_and_sum_their_events(store: Store) -> None:
    rule = "451b3c28-0000-4000-8000-000000000001"
    _store(store, [
        # A Sigma rule's alerts: by key, and by a correlation's key with its group after a space.
        _row(1, kind="rule", key=f"sigma:{rule}", title="Encoded PowerShell", count=3),
        _row(2, kind="rule", key=f"sigma:{rule} {{host: a}}", title="Encoded PowerShell", count=4),
        # One naming its rule as its indicator.
        _row(3, kind="indicator", key="x", indicator_type="sigma-rule", indicator_value=rule,
             title="Encoded PowerShell", count=2),
        # An indicator's alerts, at two organisations.
        _row(4, key="domain:evil.example", indicator_type="domain",
             indicator_value="evil.example", count=6),
        _row(5, key="domain:evil.example", org_code="RJ1", indicator_type="domain",
             indicator_value="evil.example", count=6),
        _row(6, key="ipv4:1", indicator_type=None, indicator_value="198.51.100.7", count=1),
        _row(7, key="ipv4:2", count=50),  # names no indicator: not a source
    ])  # fmt: skip
    with store.session() as session:
        found = summarise_alerts(session, orgs=None, since=NOON - timedelta(days=1), top=8)
        top_one = summarise_alerts(session, orgs=None, since=NOON - timedelta(days=1), top=1)
    assert found.top_sources == [
        Source("indicator", "domain:evil.example", "domain evil.example", 12),
        Source("rule", rule, "Encoded PowerShell", 9),
        Source("indicator", ":198.51.100.7", "198.51.100.7", 1),
    ]
    assert top_one.top_sources == found.top_sources[:1]


def test_count_alerts_counts_what_the_filter_keeps(store: Store) -> None:
    _store(store, [_row(1), _row(2, verdict="live"), _row(3, verdict="live", org_code="RJ1")])
    with store.session() as session:
        assert count_alerts(session, AlertFilter()) == 3
        assert count_alerts(session, AlertFilter(verdict="live")) == 2
        assert count_alerts(session, AlertFilter(verdict="live", orgs=["RAL"])) == 1
        assert count_alerts(session, AlertFilter(orgs=[])) == 0


def test_rule_alerts_are_counted_by_the_rule_their_key_names(store: Store) -> None:
    from bastion.alerts import count_rule_alerts

    keys = [
        "sigma:r1", "sigma:r1", "sigma:r1 {10.0.0.9}", "sigma:r2 {a b}", "sigma:R1",
        "sigma:a:b", "sigma:", "builtin:port-scan:1.2.3.4", "builtin:port-scan:5.6.7.8",
        "builtin:port-scan", "builtin:port-scanner:1.2.3.4", "builtin:", "other:r1",
    ]  # fmt: skip
    _store(store, [
        *(_row(i, kind="rule", key=key) for i, key in enumerate(keys)),
        _row(90, kind="indicator", key="sigma:r1"),  # not a rule's alert
        _row(91, kind="rule", key="sigma:r1", seen=NOON - timedelta(days=9)),  # before
        _row(92, kind="rule", key="sigma:r1", org_code="RJ1"),
    ])  # fmt: skip
    since = NOON - timedelta(days=7)
    with store.session() as session:
        found = count_rule_alerts(session, since=since, orgs=["RAL"])
        national = count_rule_alerts(session, since=since, orgs=None)
        none = count_rule_alerts(session, since=since, orgs=[])
    assert sorted(found) == [
        ("builtin:", "builtin:", 1),
        ("builtin:", "builtin:port-scan", 3),
        ("builtin:", "builtin:port-scanner", 1),
        ("sigma:", "", 1),
        ("sigma:", "R1", 1),
        ("sigma:", "a:b", 1),
        ("sigma:", "r1", 3),
        ("sigma:", "r2", 1),
    ]
    assert ("sigma:", "r1", 4) in national
    assert none == []
