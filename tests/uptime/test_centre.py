"""The centre's cycle driven through time: burn pages, incidents, correlation, silent agents,
push heartbeats, and the notifications each sends (local SMTP server and webhook)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from tests.advisories.smtp import Mailbox
from tests.advisories.smtp import smtp_server as smtp_server  # a fixture
from tests.cases.test_notify import Hook
from tests.cases.test_notify import webhook as webhook  # a fixture

from bastion.alerts import list_alerts
from bastion.audit import Actor
from bastion.core.delivery import SmtpConfig
from bastion.core.scope import Scope
from bastion.store import Store
from bastion.uptime import Centre, History, Notifier, Slo, add_monitor, add_slo, list_incidents
from bastion.uptime import monitor as make_monitor
from bastion.uptime.models import BurnAlertRow, UptimeNotificationRow
from bastion.uptime.service import monitor_state, record_push

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EVERYTHING = Scope.everything()
ACTOR = Actor.cli("test")
AGENTS = ("london", "leeds", "cardiff")


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _add(store: Store, name: str, org: str, service: str, tags: tuple[str, ...] = ()) -> int:
    with store.session() as session:
        item = make_monitor(name, "http", "http://127.0.0.1:9/", org=org, service=service,
                            interval_s=30, timeout_s=5, tags=tags)  # fmt: skip
        return add_monitor(session, item, actor=ACTOR, scope=EVERYTHING).id


def _minute(centre: Centre, clock: Clock, ids: list[int], down: set[str]) -> None:
    """One minute of results from every agent; the agents in ``down`` see every monitor fail."""
    rows = [
        {"monitor": m, "agent": a, "at": clock.at + timedelta(seconds=s), "ok": a not in down,
         "latency_ms": 20.0}
        for m in ids for a in AGENTS for s in (1, 31)
    ]  # fmt: skip
    for agent in AGENTS:
        frame = pl.DataFrame([r for r in rows if r["agent"] == agent])
        centre.ingest(frame, f"{agent}-{clock.at:%H%M}", agent, agent.title())
    clock.at += timedelta(minutes=1)


@pytest.fixture
def centre(
    store: Store, tmp_path: Path, smtp_server: tuple[SmtpConfig, Mailbox], webhook: Hook
) -> Centre:
    smtp, _ = smtp_server
    notifier = Notifier(smtp=smtp, webhook_url=webhook.url, attempts=2, backoff=0)
    return Centre(store, History(tmp_path / "uptime"), notifier, clock=Clock(T0))


@pytest.mark.slow  # an hour of minutes, a cycle each
def test_an_outage_pages_raises_an_alert_opens_an_incident_and_tells_people(
    centre: Centre, store: Store, smtp_server: tuple[SmtpConfig, Mailbox], webhook: Hook
) -> None:
    clock: Clock = centre.clock  # type: ignore[assignment]
    portal = _add(store, "portal", "RAL", "Portal")
    with store.session() as session:
        slo = add_slo(session, Slo("RAL", "Portal", 0.999), actor=ACTOR, scope=EVERYTHING)
    for _ in range(30):
        _minute(centre, clock, [portal], set())
        assert centre.cycle().burning == {}
    minutes_down, report = 0, centre.cycle()
    while not report.burning and minutes_down < 5:
        _minute(centre, clock, [portal], {"leeds", "cardiff"})
        report = centre.cycle()
        minutes_down += 1
    assert report.burning == {slo.id: "page"}
    assert minutes_down <= 2  # the fast-burn page fires within minutes of the outage
    with store.session() as session:
        assert monitor_state(session, portal, EVERYTHING)[0] == "down"
        [incident] = list_incidents(session, EVERYTHING)
        alerts, _ = list_alerts(session, org="RAL")
        [burn] = session.query(BurnAlertRow).all()
        kinds = {(r.kind, r.channel, r.status) for r in session.query(UptimeNotificationRow)}
    assert incident.service == "Portal"
    assert [(a.source, a.severity.value if hasattr(a.severity, "value") else a.severity)
            for a in alerts] == [("uptime", "high")]  # fmt: skip
    assert burn.severity == "page"
    assert "page:1h/5m" in burn.rules
    assert {("down", "email", "sent"), ("burn", "webhook", "sent")} <= kinds
    _, mailbox = smtp_server
    assert any("[PAGE] Portal" in str(m["Subject"]) for m in mailbox.to("duty@ral.nhs.test"))
    assert {p["event"] for p in webhook.posts} >= {"down", "burn"}
    # Recovery: checks pass again; the page calms to a ticket once the 30-minute window
    # of the 6-hour rule is clean (the 2-hour window of the 1-day ticket still burns).
    for _ in range(31):
        _minute(centre, clock, [portal], set())
        report = centre.cycle()
    assert report.burning == {slo.id: "ticket"}
    with store.session() as session:
        assert monitor_state(session, portal, EVERYTHING)[0] == "up"
        [incident] = list_incidents(session, EVERYTHING)
        rows = session.query(BurnAlertRow).order_by(BurnAlertRow.id).all()
    assert incident.status.value == "resolved"
    assert [(r.severity, r.cleared_at is None) for r in rows] == [("page", False), ("ticket", True)]


def test_many_members_failing_on_one_dependency_make_one_national_incident(
    centre: Centre, store: Store
) -> None:
    clock: Clock = centre.clock  # type: ignore[assignment]
    ids = [
        _add(store, "login", org, "Login", ("dep:nhs-login",)) for org in ("RAL", "RJ1", "A81001")
    ]
    _minute(centre, clock, ids, {"leeds", "cardiff"})
    report = centre.cycle()
    assert report.national == ["nhs-login"]
    with store.session() as session:
        incidents = list_incidents(session, EVERYTHING)
        member = list_incidents(session, Scope.of(["RJ1"]))
    assert [(i.org, i.service, i.organisations) for i in incidents] == [
        (None, "nhs-login", ("A81001", "RAL", "RJ1"))
    ]
    assert [i.id for i in member] == [incidents[0].id]  # each member sees the national one


def test_an_agent_that_stops_reporting_is_an_alert(centre: Centre, store: Store) -> None:
    clock: Clock = centre.clock  # type: ignore[assignment]
    portal = _add(store, "portal", "RAL", "Portal")
    _minute(centre, clock, [portal], set())
    assert centre.cycle().silent_agents == []
    clock.at += timedelta(minutes=5)
    centre.ingest(pl.DataFrame(), "london-late", "london", "London")
    assert sorted(centre.cycle().silent_agents) == ["cardiff", "leeds"]
    assert centre.cycle().silent_agents == []  # once, not every cycle
    with store.session() as session:
        alerts, _ = list_alerts(session)
    assert sorted(a.title for a in alerts if a.source == "uptime") == [
        "Uptime vantage point cardiff (Cardiff) stopped reporting",
        "Uptime vantage point leeds (Leeds) stopped reporting",
    ]


def test_a_push_monitor_is_down_when_its_heartbeat_is_silent(centre: Centre, store: Store) -> None:
    clock: Clock = centre.clock  # type: ignore[assignment]
    with store.session() as session:
        item = add_monitor(
            session, make_monitor("backup", "push", "", org="RAL", service="Backups",
                                  interval_s=60, timeout_s=5), actor=ACTOR, scope=EVERYTHING,
        )  # fmt: skip
    centre.cycle()
    with store.session() as session:
        assert monitor_state(session, item.id, EVERYTHING)[0] == "down"
        record_push(session, item.push_token, clock.at)
    clock.at += timedelta(seconds=30)
    centre.cycle()
    with store.session() as session:
        assert monitor_state(session, item.id, EVERYTHING)[0] == "up"
