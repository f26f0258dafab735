from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from sqlalchemy import func, select
from tests.alerts.test_store import hits

from bastion import audit
from bastion.alerts import Alert, list_alerts, record_alerts, triage
from bastion.audit import Actor
from bastion.audit.models import AuditRow
from bastion.core.errors import ConflictError, InputError, NotFoundError
from bastion.store import Store

ANA = Actor.cli("ana")


def _two_alerts(store: Store) -> list[int]:
    with store.session() as session:
        record_alerts(
            session, pl.concat([hits(0), hits(5, key="ind-7", **{"indicator.value": "x"})])
        )
        found, _ = list_alerts(session)
    return sorted(a.id for a in found)


def _audit_count(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(AuditRow)) or 0


def test_new_alert_is_new_then_ack_assign_close_each_recorded_once(store: Store) -> None:
    first, second = _two_alerts(store)
    with store.session() as session:
        assert {a.state for a in list_alerts(session)[0]} == {"new"}
    with store.session() as session:
        done = triage.acknowledge(session, ANA, [first, second], reason="seen")
    assert [a.state for a in done] == ["acknowledged", "acknowledged"]
    assert _audit_count(store) == 2
    with store.session() as session:  # acknowledging again changes nothing and records nothing
        assert triage.acknowledge(session, ANA, [first]) == []
    assert _audit_count(store) == 2
    with store.session() as session:
        [assigned] = triage.assign(session, ANA, [first], "soc-team")
    assert (assigned.state, assigned.assignee) == ("in_progress", "soc-team")
    with store.session() as session:
        [closed] = triage.close(session, ANA, [first], "false-positive", reason="scanner of ours")
    assert (closed.state, closed.resolution) == ("closed", "false_positive")
    with store.session() as session:
        triage.add_note(session, ANA, [first], "checked with the trust")
        changes = triage.history(session, first)
        events, _ = audit.list_events(session, target=f"alert:{first}")
    assert [(c.field, c.before, c.after) for c in changes] == [
        ("state", "new", "acknowledged"),
        ("assignee", None, "soc-team"),
        ("state", "acknowledged", "in_progress"),
        ("state", "in_progress", "closed"),
        ("resolution", None, "false_positive"),
        ("note", None, "checked with the trust"),
    ]
    assert {c.actor for c in changes} == {"cli:ana"}
    assert changes[3].reason == "scanner of ours"
    assert sorted(e.action for e in events) == [
        "alert.acknowledge",
        "alert.assign",
        "alert.close",
        "alert.note",
    ]


def test_closed_alert_is_not_extended_new_events_open_a_new_alert(store: Store) -> None:
    [alert_id] = [a.id for a in _alerts_after(store, hits(0))]
    with store.session() as session:
        triage.close(session, ANA, [alert_id], "benign")
    with store.session() as session:
        stats = record_alerts(session, hits(10))
    assert (stats.created, stats.extended) == (1, 0)


def _alerts_after(store: Store, frame: pl.DataFrame) -> list[Alert]:
    with store.session() as session:
        record_alerts(session, frame)
        return list_alerts(session)[0]


def test_bad_input_and_other_tenants_are_refused(store: Store) -> None:
    first, _ = _two_alerts(store)
    with store.session() as session, pytest.raises(InputError, match="unknown resolution"):
        triage.close(session, ANA, [first], "oops")
    with store.session() as session, pytest.raises(NotFoundError, match="no alert with id"):
        triage.acknowledge(session, ANA, [first], orgs=["RJ1"])
    with store.session() as session, pytest.raises(NotFoundError):
        triage.acknowledge(session, ANA, [9999])
    with store.session() as session:
        triage.close(session, ANA, [first], "duplicate")
    with store.session() as session, pytest.raises(ConflictError, match="closed"):
        triage.assign(session, ANA, [first], "bob")
    with store.session() as session, pytest.raises(InputError, match="filter"):
        triage.select_ids(session)
    assert _audit_count(store) == 1


def test_bulk_selection_by_indicator_org_and_open_state(store: Store) -> None:
    first, second = _two_alerts(store)
    with store.session() as session:
        assert triage.select_ids(session, org="r0a") == [first, second]
        assert triage.select_ids(session, indicator="x") == [second]
        assert triage.select_ids(session, indicator="ind-42") == [first]
        assert triage.select_ids(session, org="R0A", orgs=["RJ1"]) == []
        triage.close(session, ANA, [first], "benign")
    with store.session() as session:
        assert triage.select_ids(session, org="R0A") == [second]


def test_window_in_days_does_not_touch_triage(store: Store) -> None:
    # a retrospective alert starts new too
    with store.session() as session:
        record_alerts(session, hits(0), retrospective=True, window=timedelta(days=3))
        [alert] = list_alerts(session)[0]
    assert (alert.state, alert.group_id) == ("new", alert.id)
