"""Notification: e-mail over SMTP (stdlib smtplib) and console notices, each recorded."""

from __future__ import annotations

import os
import smtplib
from dataclasses import dataclass
from email import policy as email_policy
from email.message import EmailMessage

from sqlalchemy.orm import Session

from bastion.advisories.models import NotificationRow
from bastion.core.timeutil import utcnow


@dataclass(frozen=True)
class SmtpConfig:
    """Where e-mail goes: ``BASTION_SMTP_HOST``, ``BASTION_SMTP_PORT``, ``BASTION_SMTP_FROM``."""

    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "bastion-alerts@localhost"
    timeout: float = 10.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> SmtpConfig:
        env = os.environ if environ is None else environ
        return cls(
            host=env.get("BASTION_SMTP_HOST", cls.host),
            port=int(env.get("BASTION_SMTP_PORT", str(cls.port))),
            sender=env.get("BASTION_SMTP_FROM", cls.sender),
        )


@dataclass(frozen=True)
class Message:
    recipients: tuple[str, ...]
    subject: str
    body: str


def send(config: SmtpConfig, message: Message) -> str | None:
    """Send one e-mail; return None when the server accepted it, else why not."""
    # Python folds a long subject that opens with "[" into a leading space; RFC 5322 allows 998.
    email = EmailMessage(policy=email_policy.SMTP.clone(max_line_length=998))
    email["From"] = config.sender
    email["To"] = ", ".join(message.recipients)
    email["Subject"] = message.subject
    email.set_content(message.body)
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
            refused = smtp.send_message(email)
    except (OSError, smtplib.SMTPException) as exc:
        return f"{type(exc).__name__}: {exc}"
    if refused:
        return f"refused: {', '.join(sorted(refused))}"
    return None


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
