"""Notification: e-mail over SMTP (stdlib smtplib) and console notices, each recorded."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bastion.advisories.models import NotificationRow
from bastion.core.delivery import Message, SmtpConfig, send
from bastion.core.timeutil import utcnow

__all__ = ["Message", "SmtpConfig", "notify_organisation", "send"]


def notify_organisation(
    session: Session,
    config: SmtpConfig,
    *,
    alert_id: int,
    version: int,
    org_code: str,
    kind: str,
    message: Message,
) -> bool:
    """E-mail the organisation's contacts and post a console notice; record both.

    A failed e-mail is recorded with its reason and does not stop the others.
    """
    now = utcnow()
    ok = True
    if message.recipients:
        error = send(config, message)
        ok = error is None
        session.add(
            NotificationRow(
                alert_id=alert_id, version=version, org_code=org_code, channel="email", kind=kind,
                recipient=", ".join(message.recipients)[:300], subject=message.subject[:500],
                status="sent" if ok else "failed", error=error or "", created_at=now,
            )
        )  # fmt: skip
    session.add(
        NotificationRow(
            alert_id=alert_id, version=version, org_code=org_code, channel="console", kind=kind,
            recipient="", subject=message.subject[:500], status="unread", error="", created_at=now,
        )
    )  # fmt: skip
    return ok
