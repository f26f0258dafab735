"""Case notifications by e-mail (a local aiosmtpd server) and webhook (a local HTTP server)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from tests.advisories.smtp import Mailbox
from tests.advisories.smtp import smtp_server as smtp_server  # a fixture
from tests.cases.conftest import ACTOR, T0

from bastion import cases
from bastion.advisories import SmtpConfig
from bastion.core.scope import Scope
from bastion.store import Store

NATIONAL = Scope.everything()


@dataclass
class Hook:
    """What the local webhook received; it fails the first ``failures`` posts with a 503."""

    url: str = ""
    failures: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0


@pytest.fixture
def webhook() -> Iterator[Hook]:
    hook = Hook()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hook.calls += 1
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if hook.calls <= hook.failures:
                self.send_response(503)
            else:
                hook.posts.append(json.loads(body))
                self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()


def test_a_new_critical_case_is_mailed_to_its_organisations_and_posted_after_retries(
    sqlite_store: Store,
    federation: dict[str, int],
    smtp_server: tuple[SmtpConfig, Mailbox],
    webhook: Hook,
) -> None:
    smtp, mailbox = smtp_server
    webhook.failures = 2
    notifier = cases.Notifier(smtp=smtp, webhook_url=webhook.url, attempts=3, backoff=0)
    with sqlite_store.session() as session:
        made = cases.create_case(
            session, cases.CaseDraft("Ransomware", ("RAL", "RJ1"), severity="critical"),
            actor=ACTOR, scope=NATIONAL, notifier=notifier,
        )  # fmt: skip
        quiet = cases.create_case(
            session, cases.CaseDraft("Low", ("RAL",), severity="low"),
            actor=ACTOR, scope=NATIONAL, notifier=notifier,
        )  # fmt: skip
        sent = cases.sent_notifications(session, made.id)
        assert cases.sent_notifications(session, quiet.id) == []
    assert sorted(rcpt for _, [rcpt] in mailbox.envelopes) == ["sec@ral.example", "sec@rj1.example"]
    assert "[CRITICAL] New case" in str(mailbox.messages[0]["Subject"])
    assert [(p["event"], p["case"], p["organisations"]) for p in webhook.posts] == [
        ("new_case", made.id, ["RAL", "RJ1"])
    ]
    assert [(s.channel, s.status, s.attempts) for s in sent] == [
        ("email", "sent", 1),
        ("email", "sent", 1),
        ("webhook", "sent", 3),
    ]


def test_a_webhook_that_keeps_failing_is_recorded_as_failed(
    sqlite_store: Store, federation: dict[str, int], webhook: Hook
) -> None:
    webhook.failures = 99
    notifier = cases.Notifier(webhook_url=webhook.url, attempts=2, backoff=0)
    with sqlite_store.session() as session:
        made = cases.create_case(
            session, cases.CaseDraft("Beacon", ("RAL",)), actor=ACTOR, scope=NATIONAL
        )
        cases.assign(session, made.id, "soc-team", actor=ACTOR, scope=NATIONAL, notifier=notifier)
        [sent] = cases.sent_notifications(session, made.id)
    assert (sent.channel, sent.status, sent.attempts, sent.error) == (
        "webhook",
        "failed",
        2,
        "HTTP 503",
    )
    assert webhook.calls == 2


def test_a_clock_nearing_its_deadline_is_notified_once(
    sqlite_store: Store, federation: dict[str, int], webhook: Hook
) -> None:
    notifier = cases.Notifier(webhook_url=webhook.url, backoff=0)
    policy = cases.ClockPolicy(breach_hours=72, sector_hours=24, warning_hours=6)
    with sqlite_store.session() as session:
        made = cases.create_case(
            session, cases.CaseDraft("Breach", ("RAL",), personal_data=True, aware_at=T0),
            actor=ACTOR, scope=NATIONAL,
        )  # fmt: skip
        early = cases.remind_clocks(session, notifier, policy=policy, now=T0 + timedelta(hours=17))
        due = cases.remind_clocks(session, notifier, policy=policy, now=T0 + timedelta(hours=19))
        again = cases.remind_clocks(session, notifier, policy=policy, now=T0 + timedelta(hours=20))
        cases.report_clock(session, made.id, "breach", actor=ACTOR, scope=NATIONAL)
        late = cases.remind_clocks(session, notifier, policy=policy, now=T0 + timedelta(hours=70))
    assert (early, due, again, late) == ([], [(made.id, "sector")], [], [])
    assert [p["event"] for p in webhook.posts] == ["clock:sector"]


def test_a_new_high_alert_group_is_notified_once_by_mail_and_webhook_and_recorded(
    sqlite_store: Store,
    federation: dict[str, int],
    smtp_server: tuple[SmtpConfig, Mailbox],
    webhook: Hook,
) -> None:
    import polars as pl
    from tests.cases.conftest import indicator_hit

    from bastion.alerts import record_alerts, triage

    smtp, mailbox = smtp_server
    webhook.failures = 1
    notifier = cases.Notifier(smtp=smtp, webhook_url=webhook.url, attempts=2, backoff=0)
    with sqlite_store.session() as session:  # a low alert group: nobody is told
        low = {**indicator_hit("RAL", "198.51.100.9", minute=5), "severity": "low"}
        record_alerts(session, pl.DataFrame([low]))
        triage.close(session, ACTOR, [federation["RKE"]], "benign")  # closed: not news
        first = cases.alert_groups_opened(session, notifier, since=T0)
        again = cases.alert_groups_opened(session, notifier, since=T0)
        notes = triage.history(session, federation["RAL"])
    assert [group for group, _ in first] == [federation["RAL"], federation["RJ1"]]
    assert again == []
    assert sorted(rcpt for _, [rcpt] in mailbox.envelopes) == ["sec@ral.example", "sec@rj1.example"]
    assert "[HIGH] New alert group" in str(mailbox.messages[0]["Subject"])
    assert [(p["event"], p["organisation"], p["verdict"]) for p in webhook.posts] == [
        ("new_alert_group", "RAL", "live"),
        ("new_alert_group", "RJ1", "live"),
    ]
    assert [(s.channel, s.status, s.attempts) for s in first[0][1]] == [
        ("email", "sent", 1),
        ("webhook", "sent", 2),
    ]
    assert [(n.field, n.actor) for n in notes] == [("notify", "system:notify")] * 2
    assert "webhook to http://127.0.0.1" in (notes[1].after or "")
