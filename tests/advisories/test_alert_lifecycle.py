"""An alert end to end: draft, preview, publish (real SMTP), acknowledge, applicable, remediate, close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.advisories.conftest import cyclonedx, log4j_core
from tests.advisories.smtp import Mailbox

from bastion import audit
from bastion.advisories.alerts import (
    AlertContent,
    AlertSeverity,
    draft_alert,
    edit_draft,
    get_alert,
    preview,
    publish,
    revise,
)
from bastion.advisories.exposure import import_inventory
from bastion.advisories.notify import SmtpConfig
from bastion.advisories.policy import Policy
from bastion.advisories.progress import alert_progress, national_view, organisation_view
from bastion.advisories.responses import (
    acknowledge,
    add_action,
    close,
    list_responses,
    overdue,
    send_reminders,
    set_applicability,
    update_action,
)
from bastion.audit import Actor
from bastion.core.errors import ConflictError, InputError, NotFoundError
from bastion.store import Store

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LOG4SHELL = AlertContent(
    title="Apache Log4j remote code execution (Log4Shell)",
    severity=AlertSeverity.HIGH,
    type="vulnerability",
    summary="Log4j 2 JNDI lookups allow remote code execution.",
    affected_products="Apache Log4j 2.0-beta9 to 2.16.0",
    threat_details="Exploited in the wild; ransomware campaigns use it.",
    remediation="Upgrade log4j-core to 2.17.1 or later.",
    cves=("CVE-2021-44228", "CVE-2021-45046", "CVE-2021-45105"),
)


@pytest.fixture
def exposed(log4shell: Store) -> Store:
    """RAA runs log4j-core 2.14.1, RBB 2.16.0, RCC 2.17.1 (not exposed)."""
    with log4shell.session() as session:
        import_inventory(
            session, "RAA", cyclonedx([log4j_core("2.14.1")]), "pas.json", actor=Actor.cli("test")
        )
        import_inventory(
            session, "RBB", cyclonedx([log4j_core("2.16.0")]), "ehr.json", actor=Actor.cli("test")
        )
        import_inventory(
            session, "RCC", cyclonedx([log4j_core("2.17.1")]), "web.json", actor=Actor.cli("test")
        )
    return log4shell


def test_alert_end_to_end(exposed: Store, smtp_server: tuple[SmtpConfig, Mailbox]) -> None:
    smtp, mailbox = smtp_server
    policy = Policy()
    with exposed.session() as session:
        alert = draft_alert(session, LOG4SHELL, author=Actor.cli("analyst@ncsc"))
        assert alert.ref == "CC-0001"
        assert alert.status == "draft"
        targets = {t.organisation: t for t in preview(session, alert.ref)}
        assert set(targets) == {"RAA", "RBB"}  # RCC runs a fixed version
        assert any("log4j-core 2.16.0" in e for e in targets["RBB"].exposures)
        assert mailbox.messages == []  # a draft reaches nobody

        report = publish(
            session, "CC-0001", actor=Actor.cli("analyst@ncsc"), policy=policy, smtp=smtp, now=T0
        )
    assert (report.organisations, report.emails_sent, report.emails_failed) == (2, 2, 0)
    [to_raa] = mailbox.to("security@raa.nhs.uk")
    assert to_raa["Subject"] == "[HIGH] CC-0001: Apache Log4j remote code execution (Log4Shell)"
    body = to_raa.get_payload()
    assert isinstance(body, str)
    assert "log4j-core 2.14.1" in body
    assert "CVE-2021-44228" in body
    assert mailbox.to("security@rcc.nhs.uk") == []

    with exposed.session() as session:
        [raa] = list_responses(session, "CC-0001", "RAA")
        assert raa.ack_due == T0 + timedelta(hours=48)
        assert raa.remediation_due == T0 + timedelta(days=14)  # KEV due dates are long past
        # One person responds for both organisations at once.
        acknowledge(
            session,
            "CC-0001",
            ["RAA", "RBB"],
            actor=Actor.cli("lead@icb"),
            now=T0 + timedelta(hours=5),
        )
        set_applicability(session, "CC-0001", ["RAA", "RBB"], "applicable", actor=Actor.cli("lead@icb"),
                          next_update=T0 + timedelta(days=3), now=T0 + timedelta(hours=6))  # fmt: skip
        [action_id] = add_action(session, "CC-0001", ["RAA"], "Upgrade PAS to log4j 2.17.1", actor=Actor.cli("lead@raa"),
                                 next_update=T0 + timedelta(days=2))  # fmt: skip
        update_action(
            session,
            action_id,
            "Patched test, production tonight",
            status="in_progress",
            actor=Actor.cli("lead@raa"),
        )
        update_action(
            session, action_id, "Production patched", status="done", actor=Actor.cli("lead@raa")
        )
        close(session, "CC-0001", ["RAA"], actor=Actor.cli("lead@raa"), now=T0 + timedelta(days=1))
        progress = alert_progress(session, "CC-0001", now=T0 + timedelta(days=1))
        [raa] = list_responses(session, "CC-0001", "RAA")
        events, _ = audit.list_events(session, target="advisory:CC-0001")
        # Oldest first, the events that changed RAA's response.
        trail = [(e.actor, e.action) for e in reversed(events) if e.after and "RAA" in e.after]
        acknowledged = [e for e in events if e.action == "advisory.acknowledge"]
    assert progress.affected == 2
    assert progress.acknowledged == progress.acknowledged_in_time == 2
    assert progress.applicable == 2
    assert progress.remediated == 1
    assert progress.closed == 1
    assert progress.overdue == 0
    assert raa.status == "closed"
    assert [u["status"] for u in raa.actions[0]["updates"]] == ["in_progress", "done"]  # type: ignore[index]
    assert trail == [
        ("cli:lead@icb", "advisory.acknowledge"),
        ("cli:lead@icb", "advisory.applicability"),
        ("cli:lead@raa", "advisory.action_add"),
        ("cli:lead@raa", "advisory.close"),
    ]
    # Responding for two organisations at once is one change, with both in it.
    [both] = acknowledged
    assert (both.org, sorted(both.after or {})) == (None, ["RAA", "RBB"])


def test_revision_keeps_versions_and_renotifies(
    exposed: Store, smtp_server: tuple[SmtpConfig, Mailbox]
) -> None:
    smtp, mailbox = smtp_server
    with exposed.session() as session:
        draft_alert(session, LOG4SHELL, author=Actor.cli("analyst"))
        publish(session, "CC-0001", actor=Actor.cli("analyst"), policy=Policy(), smtp=smtp, now=T0)
        acknowledge(session, "CC-0001", ["RAA"], actor=Actor.cli("lead@raa"), now=T0)
        changed = AlertContent(
            **{**LOG4SHELL.__dict__, "remediation": "Upgrade to 2.17.1; 2.16.0 is not enough."}
        )
        report = revise(session, "CC-0001", changed, note="2.16.0 is still exposed to CVE-2021-45105",
                        actor=Actor.cli("analyst"), policy=Policy(), smtp=smtp, now=T0 + timedelta(days=1))  # fmt: skip
        alert = get_alert(session, "CC-0001")
        [raa] = list_responses(session, "CC-0001", "RAA")
        with pytest.raises(ConflictError, match="revise it instead"):
            edit_draft(session, "CC-0001", changed, author=Actor.cli("analyst"))
    assert report.version == 2
    assert [v.version for v in alert.versions] == [1, 2]
    assert alert.versions[0].content.remediation == LOG4SHELL.remediation
    assert alert.versions[1].change_note.startswith("2.16.0 is still exposed")
    assert raa.notified_version == 2
    assert raa.acknowledged_at == T0  # a revision does not undo the response
    subjects = [m["Subject"] for m in mailbox.to("security@raa.nhs.uk")]
    assert subjects == [
        "[HIGH] CC-0001: Apache Log4j remote code execution (Log4Shell)",
        "[HIGH] CC-0001 (revision 2): Apache Log4j remote code execution (Log4Shell)",
    ]


def test_overdue_responses_escalate_with_a_reminder(
    exposed: Store, smtp_server: tuple[SmtpConfig, Mailbox]
) -> None:
    smtp, mailbox = smtp_server
    with exposed.session() as session:
        draft_alert(session, LOG4SHELL, author=Actor.cli("analyst"))
        publish(session, "CC-0001", actor=Actor.cli("analyst"), policy=Policy(), smtp=smtp, now=T0)
        acknowledge(
            session, "CC-0001", ["RBB"], actor=Actor.cli("lead@rbb"), now=T0 + timedelta(hours=1)
        )
        assert overdue(session, now=T0 + timedelta(hours=47)) == []
        late = overdue(session, now=T0 + timedelta(hours=49))
        assert [(o.organisation, o.what) for o in late] == [("RAA", "acknowledgement")]
        reminded = send_reminders(
            session,
            policy=Policy(),
            smtp=smtp,
            now=T0 + timedelta(hours=49),
            actor=Actor.cli("test"),
        )
        again = send_reminders(
            session,
            policy=Policy(),
            smtp=smtp,
            now=T0 + timedelta(hours=50),
            actor=Actor.cli("test"),
        )
        view = organisation_view(session, "RAA", now=T0 + timedelta(hours=49))
        fifteen_days = overdue(session, now=T0 + timedelta(days=15))
    assert [o.organisation for o in reminded] == ["RAA"]
    assert again == []  # once per reminder period
    subjects = [m["Subject"] for m in mailbox.to("security@raa.nhs.uk")]
    assert (
        subjects[-1] == "[HIGH] CC-0001 (reminder): Apache Log4j remote code execution (Log4Shell)"
    )
    assert "acknowledgement was due 2026-12-03 09:00 UTC" in str(
        mailbox.to("security@raa.nhs.uk")[-1].get_payload()
    )
    assert view.open_alerts == ("CC-0001",)
    assert view.overdue_alerts == ("CC-0001",)
    assert view.exposures == 3
    assert {(o.organisation, o.what) for o in fifteen_days} >= {
        ("RAA", "remediation"),
        ("RBB", "remediation"),
    }


def test_policy_is_data_not_code(exposed: Store, smtp_server: tuple[SmtpConfig, Mailbox]) -> None:
    smtp, _ = smtp_server
    policy = Policy(ack_hours={"high": 24}, remediation_days={"high": 7})
    with exposed.session() as session:
        draft_alert(session, LOG4SHELL, author=Actor.cli("analyst"))
        publish(session, "CC-0001", actor=Actor.cli("analyst"), policy=policy, smtp=smtp, now=T0)
        [raa] = list_responses(session, "CC-0001", "RAA")
    assert raa.ack_due == T0 + timedelta(hours=24)
    assert raa.remediation_due == T0 + timedelta(days=7)


def test_kev_due_date_sets_remediation_deadline() -> None:
    from datetime import date

    policy = Policy()
    due = policy.remediation_due(["high"], T0, [date(2026, 12, 8)])
    assert due == datetime(2026, 12, 8, 23, 59, 59, tzinfo=UTC)
    assert policy.remediation_due(["high"], T0, [date(2021, 12, 24)]) == T0 + timedelta(days=14)
    assert policy.remediation_due(["low"], T0, []) is None


def test_failed_email_is_recorded_and_publishing_goes_on(exposed: Store) -> None:
    dead = SmtpConfig(host="127.0.0.1", port=9, timeout=2)
    with exposed.session() as session:
        draft_alert(session, LOG4SHELL, author=Actor.cli("analyst"))
        report = publish(
            session, "CC-0001", actor=Actor.cli("analyst"), policy=Policy(), smtp=dead, now=T0
        )
        responses = list_responses(session, "CC-0001")
    assert (report.emails_sent, report.emails_failed) == (0, 2)
    assert len(responses) == 2


def test_named_organisation_is_reached_without_exposure(
    exposed: Store, smtp_server: tuple[SmtpConfig, Mailbox]
) -> None:
    smtp, mailbox = smtp_server
    with exposed.session() as session:
        draft_alert(session, LOG4SHELL, author=Actor.cli("analyst"), organisations=("RCC",))
        targets = {t.organisation: t.named for t in preview(session, "CC-0001")}
        publish(session, "CC-0001", actor=Actor.cli("analyst"), policy=Policy(), smtp=smtp, now=T0)
        views = national_view(session, now=T0)
    assert targets == {"RAA": False, "RBB": False, "RCC": True}
    assert len(mailbox.to("security@rcc.nhs.uk")) == 1
    assert views[0].affected == 3


def test_responding_checks_its_input(
    exposed: Store, smtp_server: tuple[SmtpConfig, Mailbox]
) -> None:
    smtp, _ = smtp_server
    with exposed.session() as session:
        draft_alert(session, LOG4SHELL, author=Actor.cli("analyst"))
        publish(session, "CC-0001", actor=Actor.cli("analyst"), policy=Policy(), smtp=smtp, now=T0)
        with pytest.raises(NotFoundError, match="did not reach RCC"):
            acknowledge(session, "CC-0001", ["RAA", "RCC"], actor=Actor.cli("x"))
        with pytest.raises(InputError, match="unknown applicability"):
            set_applicability(session, "CC-0001", ["RAA"], "maybe", actor=Actor.cli("x"))
        with pytest.raises(ConflictError, match="before closing"):
            close(session, "CC-0001", ["RAA"], actor=Actor.cli("x"))
        with pytest.raises(NotFoundError, match="no alert"):
            acknowledge(session, "CC-0099", ["RAA"], actor=Actor.cli("x"))
        with pytest.raises(InputError, match="invalid vulnerability id"):
            draft_alert(
                session,
                AlertContent(title="x", severity=AlertSeverity.LOW, cves=("log4j",)),
                author=Actor.cli("a"),
            )
