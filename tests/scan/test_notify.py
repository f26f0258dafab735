"""Digests and reminders reach the organisation's contacts through a real local SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.advisories.smtp import Mailbox, smtp_server
from tests.cases.test_notify import Hook, webhook
from tests.conftest import Run
from tests.scan.test_findings import ACTOR, missing_headers, open_rdp, outcome

from bastion import audit, orgs, scan
from bastion.cli import context
from bastion.core.delivery import Channels, SmtpConfig
from bastion.core.scope import Scope
from bastion.core.timeutil import utcnow
from bastion.core.types import Severity
from bastion.store import Store

__all__ = ["smtp_server", "webhook"]  # fixtures
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
LEAD = "it.lead@riverside.example"


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    with sqlite_store.session() as session:
        organisation = orgs.Organisation(
            "A81001", "Riverside Surgery", orgs.OrgType.GP_PRACTICE,
            hosts=(orgs.Host("www.riverside.example", "203.0.113.10"),),
            contacts=(orgs.Contact("Pat Lead", LEAD),),
        )  # fmt: skip
        orgs.save_organisation(session, organisation, actor=ACTOR)
        orgs.save_organisation(
            session, orgs.Organisation("A81002", "Quiet Surgery", orgs.OrgType.GP_PRACTICE),
            actor=ACTOR,
        )  # fmt: skip
        scan.record_outcome(session, outcome(open_rdp(), missing_headers(443)), actor=ACTOR, now=T0)
    return sqlite_store


def _channels(smtp: SmtpConfig | None, hook: str | None = None) -> Channels:
    return Channels(smtp=smtp, webhook_url=hook, attempts=2, backoff=0)


def test_digest_is_mailed_to_the_contacts_with_what_is_new_and_how_to_fix_it(
    store: Store, smtp_server: tuple[SmtpConfig, Mailbox]
) -> None:
    config, mailbox = smtp_server
    with store.session() as session:
        notices = scan.send_digests(
            session, _channels(config), actor=ACTOR, now=T0 + timedelta(hours=1)
        )
    assert [(n.org, n.kind, n.delivered) for n in notices] == [("A81001", "digest", True)]
    (message,) = mailbox.to(LEAD)
    assert (
        message["Subject"] == "Scan digest for Riverside Surgery (A81001): 2 open finding(s), 2 new"
    )
    body = message.get_content()
    assert "NEW [critical] Remote Desktop (RDP) is open to the internet" in body
    assert "close port 3389" in body  # the remediation written for the practice
    # A week later one more finding: only it is new.
    extra = scan.Observation(
        "ports", "exposed:smb", "SMB is open", Severity.HIGH, 445,
        scan.Evidence("SMB negotiate", "ff534d42"), "exposed_service",
        {"service": "Windows file sharing (SMB)", "why": "worms spread this way."},
    )  # fmt: skip
    later = T0 + timedelta(days=7)
    with store.session() as session:
        scan.record_outcome(
            session, outcome(open_rdp(), missing_headers(443), extra), actor=ACTOR, now=later
        )
        scan.send_digests(session, _channels(config), actor=ACTOR, now=later)
        report = scan.organisation_report(session, scan_scope(), "A81001")
        events, _ = audit.list_events(session, action="scan.digest")
    assert mailbox.to(LEAD)[-1]["Subject"].endswith("3 open finding(s), 1 new")
    assert [(n["kind"], n["channel"], n["status"]) for n in report["notices"]] == [
        ("digest", "email", "sent")
    ] * 2
    assert [(e.org, len(e.after["findings"])) for e in events] == [("A81001", 3), ("A81001", 2)]


def scan_scope() -> Scope:
    return Scope.everything()


def test_webhook_is_retried_and_every_try_recorded(store: Store, webhook: Hook) -> None:
    webhook.failures = 1
    with store.session() as session:
        (notice,) = scan.send_digests(session, _channels(None, webhook.url), actor=ACTOR, now=T0)
        report = scan.organisation_report(session, scan_scope(), "A81001")
    assert [(s.channel, s.status, s.attempts) for s in notice.sends] == [("webhook", "sent", 2)]
    assert webhook.posts[0]["event"] == "scan_digest"
    assert webhook.posts[0]["by_severity"] == {"critical": 1, "medium": 1}
    assert report["notices"][0]["attempts"] == 2
    assert report["notices"][0]["recipient"] == webhook.url.split("/")[2]  # not its path


def _remind(store: Store, channels: Channels, days: int) -> list[scan.Notice]:
    with store.session() as session:
        return scan.send_reminders(
            session, channels, scan.Cadence(), actor=ACTOR, now=T0 + timedelta(days=days)
        )


def test_reminders_follow_the_cadence_by_severity(
    store: Store, smtp_server: tuple[SmtpConfig, Mailbox]
) -> None:
    config, mailbox = smtp_server
    channels = _channels(config)
    assert _remind(store, channels, 59) == []
    (first,) = _remind(store, channels, 60)  # the critical RDP finding (as high: 60 days)
    assert first.findings == [1]
    assert first.delivered
    assert "still open for A81001" in mailbox.to(LEAD)[0]["Subject"]
    assert _remind(store, channels, 61) == []  # its clock restarted at day 60
    (second,) = _remind(store, channels, 120)  # RDP again (60 more days) and the medium one
    assert sorted(second.findings) == [1, 2]
    with store.session() as session:
        events, _ = audit.list_events(session, action="scan.reminder")
    assert len(events) == 2
    assert len(mailbox.messages) == 2


def test_an_undelivered_reminder_is_recorded_and_tried_again_next_time(store: Store) -> None:
    nowhere = SmtpConfig(host="127.0.0.1", port=1, timeout=1)  # nothing listens on port 1
    (failed,) = _remind(store, _channels(nowhere), 60)
    assert not failed.delivered
    assert [(s.status, s.attempts) for s in failed.sends] == [("failed", 2)]
    (again,) = _remind(store, _channels(nowhere), 61)  # not marked reminded: due again
    assert again.findings == [1]


def test_no_reminder_for_a_finding_that_is_not_open(
    store: Store, smtp_server: tuple[SmtpConfig, Mailbox]
) -> None:
    config, mailbox = smtp_server
    with store.session() as session:
        scan.request_rescan(session, scan_scope(), 1, actor=ACTOR, now=T0 + timedelta(days=1))
    assert _remind(store, _channels(config), 100) == []
    assert mailbox.messages == []


def test_cli_digest_mails_and_the_report_lists_it(
    bastion: Run, smtp_server: tuple[SmtpConfig, Mailbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, mailbox = smtp_server
    assert bastion("init").exit_code == 0
    monkeypatch.setenv("BASTION_SMTP_PORT", str(config.port))
    with context.store().session() as session:
        orgs.save_organisation(
            session,
            orgs.Organisation(
                "A81001", "Riverside Surgery", orgs.OrgType.GP_PRACTICE,
                contacts=(orgs.Contact("Pat Lead", LEAD),),
            ),
            actor=ACTOR,
        )  # fmt: skip
        scan.record_outcome(session, outcome(open_rdp()), actor=ACTOR, now=utcnow())
    sent = bastion("scan", "digest")
    assert sent.exit_code == 0, sent.output
    assert "A81001 digest: 1 finding(s); email sent" in sent.output
    assert len(mailbox.to(LEAD)) == 1
    report = bastion("scan", "report", "A81001").output
    assert "digest by email: sent (1 finding(s))" in report
    assert bastion("scan", "remind").output.strip() == "nothing to send"  # found today
    monkeypatch.setenv("BASTION_SMTP_PORT", "1")  # nothing listens: the command says so, exit 1
    failed = bastion("scan", "digest")
    assert failed.exit_code == 1
    assert "email failed" in failed.output
