"""`bastion init --demo` publishes one national alert to the demo lead's organisation, once."""

from __future__ import annotations

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
    [said] = demo_advisory_once(federation, "demo.lead", tmp_path)
    with federation.session() as session:
        [alert], _ = adv.visible_alerts(session, Scope.everything())
        responses = adv.list_responses(session, alert.ref)
        assert orgs.organisation_ids(session, ["RBB"])
    assert alert.status == "published"
    assert [r.organisation for r in responses] == ["RBB"]
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
