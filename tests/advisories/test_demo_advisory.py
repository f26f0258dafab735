"""`bastion init --demo` loads its own vulnerabilities and inventories and publishes one alert, once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.advisories.smtp import Mailbox

from bastion import advisories as adv
from bastion import orgs
from bastion.advisories.notify import SmtpConfig
from bastion.auth import Role
from bastion.auth import users as auth_users
from bastion.cli.advisories import demo_advisory_once
from bastion.core.scope import Scope
from bastion.store import Store
from bastion.web.testing import FAST_HASHER, create_person


def test_the_demo_lead_gets_one_alert_once(
    federation: Store,
    tmp_path: Path,
    smtp_server: tuple[SmtpConfig, Mailbox],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config, mailbox = smtp_server
    monkeypatch.setenv("BASTION_SMTP_HOST", config.host)
    monkeypatch.setenv("BASTION_SMTP_PORT", str(config.port))
    monkeypatch.setattr(auth_users, "HASHER", FAST_HASHER)
    create_person(federation, "demo.lead", None, (("RBB", Role.ORG_LEAD),))
    loaded, said = demo_advisory_once(federation, "demo.lead", tmp_path)
    with federation.session() as session:
        [alert], _ = adv.visible_alerts(session, Scope.everything())
        responses = {r.organisation: r for r in adv.list_responses(session, alert.ref)}
        exposures = adv.list_exposures(session, org="RBB")
        assert orgs.organisation_ids(session, ["RBB"])
    assert alert.status == "published"
    assert set(alert.content.cves) == {"CVE-2021-44228", "CVE-2021-45046", "CVE-2021-44832"}
    # The lead's organisation runs log4j-core 2.14.1: exposed to all three, not yet acknowledged.
    assert {e.vulnerability for e in exposures if e.component == "log4j-core"} >= {
        "CVE-2021-44228",
        "CVE-2021-45046",
        "CVE-2021-44832",
    }
    assert responses["RBB"].acknowledged_at is None
    assert responses["RBB"].ack_due is not None
    assert "exposures" in loaded
    assert f"/advisories/{alert.ref}" in said
    assert len(mailbox.to("security@rbb.nhs.uk")) == 1
    assert demo_advisory_once(federation, "demo.lead", tmp_path) == [
        "demo advisory not published: the database already has national alerts"
    ]


def test_no_demo_lead_no_alert(federation: Store, tmp_path: Path) -> None:
    [said] = demo_advisory_once(federation, "demo.lead", tmp_path)
    assert "no user demo.lead" in said
    with federation.session() as session:
        assert adv.visible_alerts(session, Scope.everything()) == ([], 0)


def test_the_demo_vulnerabilities_match_log4j_by_their_real_ranges(federation: Store) -> None:
    from bastion.advisories.vulns import ImportResult
    from bastion.audit import Actor
    from bastion.demo.national import lead_sbom
    from bastion.demo.vulnerabilities import DEMO_OSV_RECORDS

    records = [
        adv.parse_intel(json.dumps(d).encode(), "x.json").records[0] for d in DEMO_OSV_RECORDS
    ]
    with federation.session() as session:
        adv.import_intel(session, ImportResult("osv", records=records), "t", actor=Actor.cli("t"))
        for code, version in (("RAA", "2.14.1"), ("RBB", "2.16.0"), ("RCC", "2.17.1")):
            sbom = lead_sbom(code).replace(b"2.14.1", version.encode())
            adv.import_inventory(session, code, sbom, "app.cdx.json", actor=Actor.cli("t"))
        found = {
            (e.organisation, e.vulnerability)
            for e in adv.list_exposures(session)
            if e.component == "log4j-core"
        }
    assert found == {
        ("RAA", "CVE-2021-44228"), ("RAA", "CVE-2021-45046"), ("RAA", "CVE-2021-45105"),
        ("RAA", "CVE-2021-44832"),
        ("RBB", "CVE-2021-45105"), ("RBB", "CVE-2021-44832"),
    }  # fmt: skip
