from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from bastion.alerts import (
    Evidence,
    aggregate_candidates,
    get_alert,
    list_alerts,
    record_alerts,
)
from bastion.core.errors import InputError, NotFoundError
from bastion.core.events import AlertKind
from bastion.core.types import Severity
from bastion.store import Store

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


def hits(*minutes: int, blocked: bool = True, **overrides: Any) -> pl.DataFrame:
    """Indicator hits at T0 + each minute, one per event."""
    n = len(minutes)
    columns: dict[str, Any] = {
        "organization.id": ["R0A"] * n,
        "host.ip": ["10.1.0.5"] * n,
        "@timestamp": [T0 + timedelta(minutes=m) for m in minutes],
        "kind": ["indicator"] * n,
        "key": ["ind-42"] * n,
        "title": ["Traffic to known C2 203.0.113.9"] * n,
        "severity": ["high"] * n,
        "blocked": [blocked] * n,
        "indicator.type": ["ipv4"] * n,
        "indicator.value": ["203.0.113.9"] * n,
        "indicator.source": ["feed-a"] * n,
        "indicator.threat": ["qakbot"] * n,
        "event.original": [f"raw line at minute {m}" for m in minutes],
        "log.file.path": ["/logs/fw.log"] * n,
        "log.offset": [1000 * m for m in minutes],
        "event.dataset": ["panos.traffic"] * n,
    }
    for name, value in overrides.items():
        columns[name.replace("__", ".")] = [value] * n
    return pl.DataFrame(columns)


def test_same_key_within_window_is_one_alert_with_count_and_span(store: Store) -> None:
    with store.session() as session:
        stats = record_alerts(session, hits(0, 20, 45))
    assert (stats.events, stats.groups, stats.created, stats.extended) == (3, 1, 1, 0)
    with store.session() as session:
        found, total = list_alerts(session)
    assert total == 1
    alert = found[0]
    assert alert.count == 3
    assert (alert.first_seen, alert.last_seen) == (T0, T0 + timedelta(minutes=45))
    assert (alert.org, alert.host, alert.kind, alert.key) == (
        "R0A",
        "10.1.0.5",
        AlertKind.INDICATOR,
        "ind-42",
    )
    assert alert.severity is Severity.HIGH
    assert (alert.indicator_type, alert.indicator_value) == ("ipv4", "203.0.113.9")
    assert (alert.indicator_source, alert.indicator_threat) == ("feed-a", "qakbot")
    assert not alert.retrospective


def test_later_batch_within_window_extends_the_alert(store: Store) -> None:
    with store.session() as session:
        record_alerts(session, hits(0, 10))
    with store.session() as session:
        stats = record_alerts(session, hits(50, 55))
    assert (stats.created, stats.extended) == (0, 1)
    with store.session() as session:
        [alert], _ = list_alerts(session)
    assert alert.count == 4
    assert (alert.first_seen, alert.last_seen) == (T0, T0 + timedelta(minutes=55))


def test_events_outside_window_make_two_alerts_across_and_within_batches(store: Store) -> None:
    with store.session() as session:
        record_alerts(session, hits(0))
        record_alerts(session, hits(61 + 60))  # 2 h later: outside the 1 h window
        within = record_alerts(session, hits(300, 301, 500))  # a 199-minute gap inside one batch
    assert (within.groups, within.created) == (2, 2)
    with store.session() as session:
        found, total = list_alerts(session)
    assert total == 4
    assert [a.count for a in found] == [1, 2, 1, 1]
    assert found[0].first_seen == T0 + timedelta(minutes=500)


def test_a_shorter_window_splits_what_the_default_joins(store: Store) -> None:
    with store.session() as session:
        stats = record_alerts(session, hits(0, 20), window=timedelta(minutes=5))
    assert stats.created == 2


def test_verdict_is_blocked_until_an_event_gets_through(store: Store) -> None:
    with store.session() as session:
        record_alerts(session, hits(0, 1, blocked=True))
        [alert], _ = list_alerts(session)
        assert alert.verdict == "blocked"
        record_alerts(session, hits(2, blocked=False))
        [alert], _ = list_alerts(session)
        assert alert.verdict == "live"
        record_alerts(session, hits(3, blocked=True))
        [alert], _ = list_alerts(session)
    assert alert.verdict == "live"
    assert alert.count == 4


def test_mixed_batch_and_null_blocked_count_as_live(store: Store) -> None:
    mixed = pl.concat([hits(0, blocked=True), hits(1, blocked=False)])
    unknown = hits(0, host__ip="10.1.0.6").with_columns(pl.lit(None, pl.Boolean).alias("blocked"))
    with store.session() as session:
        record_alerts(session, pl.concat([mixed, unknown]))
        found, _ = list_alerts(session)
    assert sorted((a.host, a.verdict) for a in found) == [
        ("10.1.0.5", "live"),
        ("10.1.0.6", "live"),
    ]


def test_evidence_keeps_the_first_samples_with_where_they_came_from(store: Store) -> None:
    with store.session() as session:
        record_alerts(session, hits(0), evidence_limit=2)
        record_alerts(session, hits(1, 2), evidence_limit=2)  # tops up to the limit
        record_alerts(session, hits(3), evidence_limit=2)
        [alert], _ = list_alerts(session)
    assert alert.count == 4
    assert alert.evidence == (
        Evidence(T0, "panos.traffic", "/logs/fw.log", 0, "raw line at minute 0"),
        Evidence(
            T0 + timedelta(minutes=1), "panos.traffic", "/logs/fw.log", 1000, "raw line at minute 1"
        ),
    )


def test_identity_separates_org_host_kind_and_key(store: Store) -> None:
    frames = [
        hits(0),
        hits(0, organization__id="RXX"),
        hits(0, organization__id=None),
        hits(1, organization__id=None),
        hits(0, host__ip="10.1.0.9"),
        hits(0, kind="rule", key="sigma-7"),
        hits(0, organization__id="ZZZ99"),  # not in the federation: kept all the same
    ]
    with store.session() as session:
        stats = record_alerts(session, pl.concat(frames, how="vertical_relaxed"))
        found, _ = list_alerts(session)
    assert stats.created == 6
    by_org = sorted((a.org or "-", a.host, a.kind.value, a.key, a.count) for a in found)
    assert by_org == [
        ("-", "10.1.0.5", "indicator", "ind-42", 2),
        ("R0A", "10.1.0.5", "indicator", "ind-42", 1),
        ("R0A", "10.1.0.5", "rule", "sigma-7", 1),
        ("R0A", "10.1.0.9", "indicator", "ind-42", 1),
        ("RXX", "10.1.0.5", "indicator", "ind-42", 1),
        ("ZZZ99", "10.1.0.5", "indicator", "ind-42", 1),
    ]
    with store.session() as session:
        assert [a.org for a in list_alerts(session, org="zzz99")[0]] == ["ZZZ99"]


def test_tenancy_filter_by_orgs(store: Store) -> None:
    with store.session() as session:
        record_alerts(
            session,
            pl.concat([hits(0), hits(0, organization__id="RXX"), hits(0, organization__id="RYY")]),
        )
    with store.session() as session:
        mine, total = list_alerts(session, orgs=["r0a", "RYY"])
        assert total == 2
        assert sorted(a.org or "" for a in mine) == ["R0A", "RYY"]
        assert list_alerts(session, orgs=[]) == ([], 0)
        other = next(a for a in list_alerts(session)[0] if a.org == "RXX")
        with pytest.raises(NotFoundError):
            get_alert(session, other.id, orgs=["R0A"])
        assert get_alert(session, other.id, orgs=["RXX"]).org == "RXX"


def test_list_filters_pages_and_orders_newest_first(store: Store) -> None:
    with store.session() as session:
        record_alerts(session, hits(0, severity="low"))
        record_alerts(session, hits(200, blocked=False))
        record_alerts(session, hits(400, severity="critical"))
    with store.session() as session:
        page, total = list_alerts(session, limit=2, offset=1)
        assert total == 3
        assert [a.last_seen for a in page] == [T0 + timedelta(minutes=200), T0]
        assert [a.verdict for a in list_alerts(session, verdict="live")[0]] == ["live"]
        assert [a.severity for a in list_alerts(session, severity="critical")[0]] == [
            Severity.CRITICAL
        ]
        recent, _ = list_alerts(session, since=T0 + timedelta(minutes=100))
        assert len(recent) == 2
        with pytest.raises(InputError, match="unknown severity"):
            list_alerts(session, severity="dire")


def test_retrospective_alerts_stay_apart_from_live_ones(store: Store) -> None:
    with store.session() as session:
        record_alerts(session, hits(0))
        stats = record_alerts(session, hits(1), retrospective=True)
        found, _ = list_alerts(session)
    assert stats.created == 1
    assert sorted(a.retrospective for a in found) == [False, True]


def test_null_timestamp_counts_as_now() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    frame = hits(0).with_columns(pl.lit(None, pl.Datetime("us", "UTC")).alias("@timestamp"))
    groups = aggregate_candidates(frame, now=now)
    assert groups["first_seen"].to_list() == [now]
    assert groups["evidence"][0][0]["timestamp"] is None


@pytest.mark.parametrize(
    ("override", "message"),
    [({"kind": "hunch"}, "unknown kind"), ({"severity": "dire"}, "dire"), ({"key": None}, "null")],
)
def test_candidates_that_cannot_be_alerts_raise_input_error(
    override: dict[str, Any], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        aggregate_candidates(hits(0, **override))


def test_empty_candidates_record_nothing_and_missing_alert_is_not_found(store: Store) -> None:
    with store.session() as session:
        stats = record_alerts(session, hits())
        assert (stats.events, stats.created) == (0, 0)
        assert list_alerts(session) == ([], 0)
        with pytest.raises(NotFoundError, match="no alert with id 999"):
            get_alert(session, 999)
