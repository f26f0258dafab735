"""Reminder e-mails through a real local SMTP server: due, overdue, missing, reviews; once each."""

from __future__ import annotations

from datetime import date

import pytest
from tests.advisories.smtp import Mailbox
from tests.advisories.smtp import smtp_server as smtp_server  # a fixture
from tests.assure.conftest import ACTOR, EVERYTHING

from bastion import audit, orgs
from bastion.assure.reminders import send_reminders
from bastion.assure.returns import open_return
from bastion.assure.reviews import assign_review
from bastion.core.delivery import SmtpConfig
from bastion.store import Store

BEFORE = date(2025, 6, 10)  # twenty days before the 2024-25 cut-off (30 June 2025)
AFTER = date(2025, 7, 5)


@pytest.fixture
def contacts(federation: Store) -> Store:
    with federation.session() as session:
        orgs.add_contact(session, "RAL", orgs.Contact("Lead", "security@ral.example"), actor=ACTOR)
        orgs.add_contact(session, "RKE", orgs.Contact("Lead", "security@rke.example"), actor=ACTOR)
    return federation


def _sent(mailbox: Mailbox) -> list[tuple[str, str]]:
    return sorted(
        (rcpt[0], str(m["Subject"]))
        for m, (_, rcpt) in zip(mailbox.messages, mailbox.envelopes, strict=True)
    )


def test_due_missing_and_review_reminders_go_once_then_overdue(
    contacts: Store, smtp_server: tuple[SmtpConfig, Mailbox]
) -> None:
    smtp, mailbox = smtp_server
    with contacts.session() as session:
        made = open_return(session, "RAL", "2024-25", "dspt", actor=ACTOR, scope=EVERYTHING)
        assign_review(session, made.id, "peer", "pat@rke.example", actor=ACTOR, scope=EVERYTHING)
        assign_review(session, made.id, "independent", "nobody", actor=ACTOR, scope=EVERYTHING)
        report = send_reminders(session, smtp, actor=ACTOR, today=BEFORE, days=30, backoff=0)
    assert _sent(mailbox) == [
        ("pat@rke.example", "Review requested: the peer review of RAL's dspt@2024-25 return"),
        ("security@ral.example", "RAL: your dspt@2024-25 return for 2024-25 is due by 2025-06-30"),
        ("security@rke.example", "RKE: no data security return for 2024-25 yet (due 2025-06-30)"),
    ]
    assert f"/assure/returns/{made.id}" in mailbox.to("security@ral.example")[0].get_content()
    # The ICB and the GP practice are asked too, but have no contact; "nobody" is no user.
    assert sorted(report.unreachable) == ["F83001 missing:dspt", "QMJ missing:dspt",
                                          "RAL review:independent:nobody"]  # fmt: skip
    with contacts.session() as session:
        again = send_reminders(session, smtp, actor=ACTOR, today=BEFORE, backoff=0)
        late = send_reminders(session, smtp, actor=ACTOR, today=AFTER, backoff=0)
        events, _ = audit.list_events(session, action="assure.reminder.send")
    assert again.sent == []
    assert [(r.org, r.kind) for r in late.sent] == [("RAL", "overdue:dspt")]
    assert "was due 2025-06-30 and is overdue" in mailbox.messages[-1]["Subject"]
    assert len(mailbox.messages) == 4
    assert len(events) == 4  # one audit event per send
    assert {e.after["status"] for e in events} == {"sent"}


def test_a_failed_reminder_is_recorded_audited_and_sent_on_the_next_run(
    contacts: Store, smtp_server: tuple[SmtpConfig, Mailbox]
) -> None:
    smtp, mailbox = smtp_server
    closed = SmtpConfig(host="127.0.0.1", port=1, sender=smtp.sender, timeout=2.0)
    with contacts.session() as session:
        open_return(session, "RAL", "2024-25", "dspt", actor=ACTOR, scope=EVERYTHING)
        failed = send_reminders(session, closed, actor=ACTOR, today=AFTER, attempts=2, backoff=0)
        [event] = audit.list_events(session, action="assure.reminder.send")[0]
    assert [(r.org, r.kind) for r, _ in failed.failed] == [("RAL", "overdue:dspt")]
    assert (event.after["status"], event.after["attempts"]) == ("failed", 2)
    assert "ConnectionRefusedError" in event.after["error"]
    with contacts.session() as session:
        retried = send_reminders(session, smtp, actor=ACTOR, today=AFTER, backoff=0)
    assert [(r.org, r.kind) for r in retried.sent] == [("RAL", "overdue:dspt")]
    assert len(mailbox.to("security@ral.example")) == 1
