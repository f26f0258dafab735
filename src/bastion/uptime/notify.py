"""Notifications of uptime events: down, recovered, certificate expiring, burn-rate alerts.

Each goes by every configured channel: e-mail to the organisation's contacts,
a JSON webhook, and apprise URLs (the chat and paging services people already
use). Each channel is tried up to ``attempts`` times with doubling waits
(``bastion.core.delivery``), and every try's outcome is recorded in
``uptime_notifications``, sent or not.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import orgs
from bastion.core.delivery import Message, SmtpConfig, post_json, retry, send
from bastion.core.timeutil import utcnow
from bastion.uptime.models import UptimeNotificationRow

KINDS = ("down", "recovered", "certificate", "burn", "agent", "national")


@dataclass(frozen=True)
class Notifier:
    """Where uptime notifications go and how hard to try."""

    smtp: SmtpConfig | None = None
    webhook_url: str | None = None
    apprise_urls: tuple[str, ...] = ()
    attempts: int = 3
    backoff: float = 1.0
    timeout: float = 10.0
    transport: httpx.BaseTransport | None = None  # tests pass one; None is the network


@dataclass(frozen=True)
class Notice:
    kind: str
    org: str | None
    subject: str
    body: str
    data: dict[str, object] = field(default_factory=dict)


def _apprise(urls: Sequence[str], notice: Notice) -> str | None:
    # apprise loads its plug-ins on first use, one of which imports the deprecated imghdr.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise  # heavy: loaded only when a channel is configured

        sender = apprise.Apprise()
        for url in urls:
            if not sender.add(url):
                return f"apprise cannot use {url.split(':', 1)[0]}:// URLs"
        sent = sender.notify(title=notice.subject, body=notice.body)
    return None if sent else "apprise: not sent"


def _contacts(session: Session, org: str | None) -> tuple[str, ...]:
    return () if org is None else orgs.contact_emails(session, org)


def notify(
    session: Session, notifier: Notifier | None, notice: Notice
) -> list[UptimeNotificationRow]:
    """Send ``notice`` by every configured channel; record each (flushed, not committed)."""
    if notifier is None:
        return []
    tries: list[tuple[str, str, object]] = []
    contacts = _contacts(session, notice.org)
    if notifier.smtp is not None and contacts:
        message, smtp = Message(contacts, notice.subject, notice.body), notifier.smtp
        tries.append(("email", ", ".join(contacts), lambda: send(smtp, message)))
    if notifier.webhook_url:
        payload = {"event": notice.kind, "subject": notice.subject, "organisation": notice.org,
                   **notice.data}  # fmt: skip
        url = notifier.webhook_url
        tries.append(("webhook", url, lambda: post_json(url, payload, timeout=notifier.timeout,
                                                         transport=notifier.transport)))  # fmt: skip
    if notifier.apprise_urls:
        urls = notifier.apprise_urls
        tries.append(("apprise", ", ".join(u.split(":", 1)[0] for u in urls),
                      lambda: _apprise(urls, notice)))  # fmt: skip
    rows = []
    for channel, recipient, once in tries:
        error, attempts = retry(once, attempts=notifier.attempts, backoff=notifier.backoff)  # type: ignore[arg-type]
        rows.append(
            UptimeNotificationRow(
                org_code=notice.org, kind=notice.kind, subject=notice.subject[:500],
                channel=channel, recipient=recipient[:500], status="failed" if error else "sent",
                attempts=attempts, error=(error or "")[:500], created_at=utcnow(),
            )
        )  # fmt: skip
    session.add_all(rows)
    session.flush()
    return rows


def sent(session: Session, org: str | None = None, limit: int = 100) -> list[UptimeNotificationRow]:
    """Return the latest notifications recorded (of one organisation, if given), newest first."""
    query = select(UptimeNotificationRow).order_by(UptimeNotificationRow.id.desc()).limit(limit)
    if org is not None:
        query = query.where(UptimeNotificationRow.org_code == org)
    return list(session.scalars(query))
