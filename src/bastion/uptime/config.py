"""Uptime's settings as the service takes them: its history folder, notifier and centre."""

from __future__ import annotations

from bastion.core.delivery import SmtpConfig
from bastion.core.settings import Settings
from bastion.store import Store
from bastion.uptime.centre import Centre
from bastion.uptime.history import History
from bastion.uptime.notify import Notifier


def history(settings: Settings) -> History:
    return History(settings.uptime_dir)


def notifier(settings: Settings, smtp: SmtpConfig | None = None) -> Notifier:
    """Return where uptime notifications go: ``smtp`` (else the environment's), webhook, apprise."""
    return Notifier(
        smtp=smtp or SmtpConfig.from_env(),
        webhook_url=settings.uptime_webhook_url,
        apprise_urls=tuple(settings.uptime_apprise_urls),
        attempts=settings.uptime_notify_attempts,
    )


def centre(store: Store, settings: Settings, notify: Notifier | None = None) -> Centre:
    return Centre(
        store, history(settings), notify if notify is not None else notifier(settings),
        agent_silence=settings.uptime_agent_silence,
        national_min_orgs=settings.uptime_national_min_orgs,
        cert_warn_days=settings.uptime_cert_warn_days,
    )  # fmt: skip
