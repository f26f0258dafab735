"""Delivering a notification: e-mail over SMTP, a JSON webhook, and retries with back-off.

Every context that tells people something (advisories, cases, uptime) sends
through these; each keeps its own record of what went where.
"""

from __future__ import annotations

import os
import smtplib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email import policy as email_policy
from email.message import EmailMessage

import httpx


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


def post_json(
    url: str,
    payload: dict[str, object],
    *,
    timeout: float = 10.0,
    transport: httpx.BaseTransport | None = None,
) -> str | None:
    """POST ``payload`` as JSON; return None on a 2xx answer, else why not."""
    try:
        with httpx.Client(transport=transport, timeout=timeout) as client:
            answer = client.post(url, json=payload)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if answer.is_success else f"HTTP {answer.status_code}"


def retry(
    once: Callable[[], str | None],
    *,
    attempts: int = 3,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[str | None, int]:
    """Call ``once`` until it reports no error or the attempts run out (waits double).

    Return the last error (None when it went) and how many attempts were made.
    """
    error, wait = None, backoff
    tries = max(1, attempts)
    for attempt in range(1, tries + 1):
        error = once()
        if error is None:
            return None, attempt
        if attempt < tries and wait > 0:
            sleep(wait)
            wait *= 2
    return error, tries


@dataclass(frozen=True)
class Channels:
    """Where one context's notifications go, and how hard to try each channel."""

    smtp: SmtpConfig | None = None
    webhook_url: str | None = None
    attempts: int = 3
    backoff: float = 1.0
    timeout: float = 10.0
    transport: httpx.BaseTransport | None = None  # tests pass one; None is the network

    @property
    def enabled(self) -> bool:
        return self.smtp is not None or bool(self.webhook_url)


@dataclass(frozen=True)
class Delivery:
    """One channel's outcome: sent or failed, after how many tries, and the last error."""

    channel: str  # email, webhook
    recipient: str
    status: str  # sent, failed
    attempts: int
    error: str = ""


def deliver(
    channels: Channels,
    recipients: Sequence[str],
    subject: str,
    body: str,
    payload: dict[str, object],
) -> list[Delivery]:
    """Mail ``recipients`` (when any) and POST ``payload`` to the webhook, each with retries."""
    done: list[Delivery] = []

    def tried(channel: str, recipient: str, once: Callable[[], str | None]) -> None:
        error, tries = retry(once, attempts=channels.attempts, backoff=channels.backoff)
        done.append(Delivery(channel, recipient, "failed" if error else "sent", tries, error or ""))

    smtp = channels.smtp
    if smtp is not None and recipients:
        message = Message(tuple(recipients), subject, body)
        tried("email", ", ".join(recipients), lambda: send(smtp, message))
    url = channels.webhook_url
    if url:
        tried(
            "webhook",
            url,
            lambda: post_json(url, payload, timeout=channels.timeout, transport=channels.transport),
        )
    return done
