"""Findings in normal form: one per problem, closed only by a confirming rescan, audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bastion import audit, orgs, scan
from bastion.alerts import list_alerts
from bastion.audit import Actor
from bastion.core.errors import ConflictError, NotFoundError
from bastion.core.scope import Scope
from bastion.core.types import Severity
from bastion.store import Store

ACTOR = Actor.cli("scanner")
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
HOST = scan.Target("A81001", "www.riverside.example", "203.0.113.10", "www.riverside.example")


def missing_headers(port: int) -> scan.Observation:
    return scan.Observation(
        check="headers",
        detail="security-headers",
        title="Website security headers score 0/100 (grade F)",
        severity=Severity.MEDIUM,
        port=port,
        evidence=scan.Evidence(f"GET https://203.0.113.10:{port}/", "HTTP 200"),
        remediation="security_headers",
        params={"score": 0, "grade": "F", "failing": ["x-frame-options"]},
        web=True,
    )


def open_rdp() -> scan.Observation:
    return scan.Observation(
        check="ports",
        detail="exposed:rdp",
        title="Remote Desktop (RDP) is open to the internet",
        severity=Severity.CRITICAL,
        port=3389,
        evidence=scan.Evidence("X.224 connection request", "0300000b06d0"),
        remediation="exposed_service",
        params={"service": "Remote Desktop (RDP)", "why": "ransomware"},
    )


def outcome(
    *observations: scan.Observation, covered: dict[str, set[int]] | None = None
) -> scan.HostOutcome:
    return scan.HostOutcome(
        HOST,
        observations=list(observations),
        covered=covered if covered is not None else {"headers": {0}, "ports": {80, 443, 3389}},
    )


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    with sqlite_store.session() as session:
        organisation = orgs.Organisation(
            "A81001", "Riverside Surgery", orgs.OrgType.GP_PRACTICE,
            hosts=(orgs.Host("www.riverside.example", "203.0.113.10"),),
        )  # fmt: skip
        orgs.save_organisation(session, organisation, actor=ACTOR)
    return sqlite_store


def _fold(store: Store, result: scan.HostOutcome, at: datetime) -> scan.FoldReport:
    with store.session() as session:
        return scan.record_outcome(session, result, actor=ACTOR, now=at)


def _findings(store: Store) -> list[scan.Finding]:
    with store.session() as session:
        return scan.list_findings(session, Scope.everything())[0]


def test_the_same_problem_on_80_and_443_is_one_finding(store: Store) -> None:
    _fold(store, outcome(missing_headers(80), missing_headers(443)), T0)
    (finding,) = _findings(store)
    assert (finding.port, finding.check, finding.detail) == (0, "headers", "security-headers")
    assert finding.seen_at == ("203.0.113.10:443", "203.0.113.10:80")


def test_fixed_closes_only_after_a_confirming_rescan(store: Store) -> None:
    _fold(store, outcome(missing_headers(443)), T0)
    (finding,) = _findings(store)
    with store.session() as session:
        waiting = scan.request_rescan(
            session, Scope.of(["A81001"]), finding.id, actor=Actor.cli("lead")
        )
    assert waiting.status is scan.Status.FIXED_UNCONFIRMED
    _fold(store, outcome(missing_headers(443)), T0 + timedelta(hours=1))  # not fixed after all
    assert _findings(store)[0].status is scan.Status.OPEN
    report = _fold(store, outcome(), T0 + timedelta(hours=2))
    assert report.unconfirmed == [finding.id]
    assert _findings(store)[0].status is scan.Status.FIXED_UNCONFIRMED
    report = _fold(store, outcome(), T0 + timedelta(hours=3))
    assert report.closed == [finding.id]
    assert _findings(store)[0].status is scan.Status.CLOSED


def test_a_check_that_did_not_run_closes_nothing(store: Store) -> None:
    _fold(store, outcome(missing_headers(443)), T0)
    _fold(store, outcome(covered={"ports": {443}}), T0 + timedelta(hours=1))
    _fold(store, outcome(covered={"ports": {443}}), T0 + timedelta(hours=2))
    assert _findings(store)[0].status is scan.Status.OPEN


def test_a_critical_finding_raises_one_alert_from_scan(store: Store) -> None:
    _fold(store, outcome(open_rdp()), T0)
    _fold(store, outcome(open_rdp()), T0 + timedelta(hours=1))
    with store.session() as session:
        alerts, _ = list_alerts(session)
    assert [(a.org, a.severity.value, a.key.split(":")[0]) for a in alerts] == [
        ("A81001", "critical", "scan")
    ]


def test_an_exception_requested_by_a_member_needs_national_approval(store: Store) -> None:
    _fold(store, outcome(open_rdp()), T0)
    with store.session() as session:
        asked = scan.add_exception(
            session, "A81001", HOST.host, "ports", expires_on=date(2099, 1, 1),
            reason="supplier VPN being replaced", actor=Actor.cli("lead"), approve=False,
        )  # fmt: skip
    assert asked.state is scan.ExceptionState.REQUESTED
    assert _findings(store)[0].status is scan.Status.OPEN
    with store.session() as session:
        scan.decide_exception(session, asked.id, approve=True, actor=Actor.cli("national"))
    assert _findings(store)[0].status is scan.Status.EXCEPTED
    with store.session() as session, pytest.raises(ConflictError):
        scan.decide_exception(session, asked.id, approve=False, actor=Actor.cli("national"))
    _fold(store, outcome(open_rdp()), T0 + timedelta(hours=1))
    assert _findings(store)[0].status is scan.Status.EXCEPTED


def test_every_change_is_in_the_audit_trail(store: Store) -> None:
    _fold(store, outcome(missing_headers(443)), T0)
    (finding,) = _findings(store)
    with store.session() as session:
        scan.request_rescan(session, Scope.everything(), finding.id, actor=Actor.cli("lead"))
        scan.add_exception(
            session, "A81001", HOST.host, None, expires_on=date(2099, 1, 1), reason="decommissioning",
            actor=Actor.cli("national"), approve=True,
        )  # fmt: skip
    with store.session() as session:
        actions = [e.action for e in audit.list_events(session)[0]]
    assert {"scan.findings", "scan.finding.rescan", "scan.exception.add"} <= set(actions)


def test_a_member_cannot_see_or_rescan_another_organisations_finding(store: Store) -> None:
    _fold(store, outcome(missing_headers(443)), T0)
    (finding,) = _findings(store)
    with store.session() as session, pytest.raises(NotFoundError):
        scan.request_rescan(session, Scope.of(["RAL"]), finding.id, actor=Actor.cli("other"))


def test_remediation_is_written_for_the_practice(store: Store) -> None:
    _fold(store, outcome(missing_headers(443)), T0)
    text = scan.remediation_text(_findings(store)[0])
    assert "x-frame-options" in text
    assert "website provider" in text
