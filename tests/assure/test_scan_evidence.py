"""Evidence from the internet-facing scan: exposed services contradict a published firewall claim."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.assure.conftest import ACTOR, EVERYTHING

from bastion import scan
from bastion.alerts import list_alerts
from bastion.assure.drift import detect_drift, prefill
from bastion.assure.providers import PROVIDERS
from bastion.assure.returns import open_return, publish, update_return
from bastion.assure.scanned import internet_facing
from bastion.core.types import Severity
from bastion.store import Store

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
HOST = scan.Target("RAL", "remote.royalfree.example", "203.0.113.20", "remote.royalfree.example")


def observed(check: str, detail: str, severity: Severity, port: int) -> scan.Observation:
    return scan.Observation(
        check=check, detail=detail, title=f"{check} {detail}", severity=severity, port=port,
        evidence=scan.Evidence("probe", "answer"), remediation="exposed_service",
        params={"service": detail, "why": "test"},
    )  # fmt: skip


def scanned(store: Store, *observations: scan.Observation, at: datetime = T0) -> None:
    covered = {"ports": {3389, 443}, "tls": {443}, "headers": {0}}
    with store.session() as session:
        outcome = scan.HostOutcome(HOST, observations=list(observations), covered=covered)
        scan.record_outcome(session, outcome, actor=ACTOR, now=at)


def test_an_organisation_never_scanned_gives_no_scan_evidence(federation: Store) -> None:
    with federation.session() as session:
        assert internet_facing(session, "RKE", T0) == []
    assert "scan" in PROVIDERS.names()


def test_open_rdp_fails_the_firewall_statements_as_drift_and_a_medium_header_does_not(
    federation: Store,
) -> None:
    scanned(
        federation,
        observed("ports", "exposed:rdp", Severity.HIGH, 3389),
        observed("headers", "security-headers", Severity.MEDIUM, 443),
    )
    with federation.session() as session:
        exposed, tls, web = internet_facing(session, "RAL", T0)
    assert exposed.statements == ("cyber-essentials:fw.3", "dspt:9.1", "ncsc-caf:B4.c.6")
    assert (exposed.met, exposed.drift) == (False, True)
    assert "1 high or critical: ports exposed:rdp (remote.royalfree.example)" in exposed.summary
    assert exposed.link == "/scan?org=RAL&status=open"
    assert (tls.met, tls.drift) == (True, False)  # nothing found on TLS
    assert (web.met, web.drift) == (True, False)  # one medium finding only
    assert "1 open web finding(s)" in web.summary


def test_a_fixed_exposure_no_longer_counts(federation: Store) -> None:
    scanned(federation, observed("ports", "exposed:rdp", Severity.HIGH, 3389))
    scanned(federation, at=T0 + timedelta(days=1))  # gone from the next scan
    with federation.session() as session:
        exposed, _, _ = internet_facing(session, "RAL", T0)
    assert exposed.met
    assert exposed.summary.startswith("0 open exposed service finding(s)")


def test_a_published_firewall_claim_with_rdp_exposed_is_flagged_and_alerted(
    federation: Store,
) -> None:
    scanned(federation, observed("ports", "exposed:rdp", Severity.HIGH, 3389))
    with federation.session() as session:
        ce = open_return(
            session, "RAL", "2024-25", "cyber-essentials", actor=ACTOR, scope=EVERYTHING
        )
        everything = {s.id: True for o in ce.outcomes for s in o.statements}
        update_return(session, ce.id, actor=ACTOR, scope=EVERYTHING, answers=everything)
        publish(session, ce.id, actor=ACTOR, scope=EVERYTHING, now=T0)
        flags = detect_drift(session, actor=ACTOR, scope=EVERYTHING, now=T0)
        alerts, _ = list_alerts(session, org="RAL")
    assert [(f.org, f.outcome, f.statement, f.provider) for f in flags] == [
        ("RAL", "firewalls", "fw.3", "scan")
    ]
    assert "assure-drift:cyber-essentials:firewalls" in {a.key for a in alerts}


def test_prefill_answers_dspt_9_1_from_the_scan_with_its_link(federation: Store) -> None:
    scanned(federation, observed("ports", "exposed:rdp", Severity.HIGH, 3389))
    with federation.session() as session:
        dspt = open_return(session, "RAL", "2024-25", "dspt", actor=ACTOR, scope=EVERYTHING)
        filled = prefill(session, dspt.id, actor=ACTOR, scope=EVERYTHING, now=T0)
    by_id = {s.id: s for o in filled.outcomes for s in o.statements}
    assert by_id["9.1"].answer is False
    assert by_id["9.1"].comment.startswith("Bastion (scan): 1 open exposed service finding(s)")
    assert by_id["9.3"].answer is True  # scanned, no TLS or web finding open
    nine = next(o for o in filled.outcomes if o.id == "9")
    assert "/scan?org=RAL&status=open" in nine.evidence
