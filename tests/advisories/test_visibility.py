"""Who sees which national alert: the advisories context decides it for every door."""

from __future__ import annotations

import pytest
from tests.advisories.smtp import Mailbox

from bastion import advisories as adv
from bastion.audit import Actor
from bastion.core.errors import NotFoundError
from bastion.core.scope import Scope
from bastion.store import Store

NATIONAL = Scope.everything()
ALPHA = Scope.of(["RAA"])
GAMMA = Scope.of(["RCC"])
ANALYST = Actor.cli("analyst")
LEAD = Actor.cli("lead@raa")


def _content(title: str) -> adv.AlertContent:
    return adv.AlertContent(title=title, severity=adv.AlertSeverity.HIGH)


@pytest.fixture
def alerts(federation: Store, smtp_server: tuple[adv.SmtpConfig, Mailbox]) -> Store:
    """CC-0001 published to RAA and RBB (RAA has one action); CC-0002 a draft naming RAA."""
    smtp, _ = smtp_server
    with federation.session() as session:
        ref = adv.draft_alert(
            session, _content("published"), author=ANALYST, organisations=("RAA", "RBB")
        ).ref
        adv.publish(session, ref, actor=ANALYST, policy=adv.Policy(), smtp=smtp)
        adv.add_action(session, ref, ["RAA"], "patch", actor=LEAD)
        adv.draft_alert(session, _content("draft"), author=ANALYST, organisations=("RAA",))
    return federation


def test_a_national_scope_sees_drafts_and_a_member_only_what_reached_it(alerts: Store) -> None:
    with alerts.session() as session:
        national, national_total = adv.visible_alerts(session, NATIONAL)
        alpha, alpha_total = adv.visible_alerts(session, ALPHA)
        gamma = adv.visible_alerts(session, GAMMA)
        drafts, _ = adv.visible_alerts(session, NATIONAL, status="draft")
        page, page_total = adv.visible_alerts(session, NATIONAL, limit=1, offset=1)
    assert [(a.ref, a.status) for a in national] == [("CC-0002", "draft"), ("CC-0001", "published")]
    assert national_total == 2
    assert [a.ref for a in alpha] == ["CC-0001"]
    assert alpha_total == 1
    assert gamma == ([], 0)
    assert [a.ref for a in drafts] == ["CC-0002"]
    assert ([a.ref for a in page], page_total) == (["CC-0001"], 2)


def test_an_alert_out_of_scope_is_not_found_exactly_as_an_absent_one(alerts: Store) -> None:
    with alerts.session() as session:
        assert adv.visible_alert(session, "cc-0001", ALPHA).ref == "CC-0001"
        assert len(adv.visible_alert(session, "CC-0002", NATIONAL).versions) == 1
        with pytest.raises(NotFoundError, match=r"^no alert 'CC-0001'$"):
            adv.visible_alert(session, "CC-0001", GAMMA)  # did not reach RCC
        with pytest.raises(NotFoundError, match=r"^no alert 'CC-0002'$"):
            adv.visible_alert(session, "CC-0002", ALPHA)  # a draft names RAA, but is a draft
        with pytest.raises(NotFoundError, match=r"^no alert 'CC-0099'$"):
            adv.visible_alert(session, "CC-0099", NATIONAL)


def test_a_member_sees_only_its_own_organisations_responses(alerts: Store) -> None:
    with alerts.session() as session:
        national = adv.visible_responses(session, "CC-0001", NATIONAL)
        alpha = adv.visible_responses(session, "CC-0001", ALPHA)
        with pytest.raises(NotFoundError):
            adv.visible_responses(session, "CC-0001", GAMMA)
    assert [r.organisation for r in national] == ["RAA", "RBB"]
    assert [r.organisation for r in alpha] == ["RAA"]


def test_responding_needs_an_organisation_in_scope_that_the_alert_reached(alerts: Store) -> None:
    with alerts.session() as session:
        alert, codes = adv.reached_organisations(session, "CC-0001", ALPHA, [" raa ", "RAA"])
        assert (alert.ref, codes) == ("CC-0001", ["RAA"])
        with pytest.raises(NotFoundError, match="did not reach RBB"):
            adv.reached_organisations(session, "CC-0001", ALPHA, ["RBB"])  # not RAA's
        with pytest.raises(NotFoundError, match="did not reach RCC"):
            adv.reached_organisations(session, "CC-0001", NATIONAL, ["RCC"])


def test_an_action_is_found_only_within_its_organisations_scope(alerts: Store) -> None:
    with alerts.session() as session:
        [raa] = adv.list_responses(session, "CC-0001", "RAA")
        action = int(str(raa.actions[0]["id"]))
        assert adv.action_organisation(session, "CC-0001", action, ALPHA) == "RAA"
        assert adv.action_organisation(session, "CC-0001", action, NATIONAL) == "RAA"
        with pytest.raises(NotFoundError, match=f"no action {action} of alert CC-0001"):
            adv.action_organisation(session, "CC-0001", action, Scope.of(["RBB"]))
        with pytest.raises(NotFoundError, match="no alert 'CC-0002'"):
            adv.action_organisation(session, "CC-0002", action, ALPHA)
