"""The cases' settings as the service takes them: the clock policy and the notifier."""

from __future__ import annotations

from bastion.advisories import SmtpConfig
from bastion.cases.notify import Notifier
from bastion.cases.read import ClockPolicy
from bastion.core.settings import Settings


def clock_policy(settings: Settings) -> ClockPolicy:
    """Return the regulatory clocks' hours from the settings."""
    return ClockPolicy(
        breach_hours=settings.cases_breach_report_hours,
        sector_hours=settings.cases_sector_report_hours,
        warning_hours=settings.cases_clock_warning_hours,
    )


def notifier(settings: Settings, smtp: SmtpConfig | None = None) -> Notifier:
    """Return where case notifications go: ``smtp`` (else the environment's) and the webhook."""
    return Notifier(
        smtp=smtp or SmtpConfig.from_env(),
        webhook_url=settings.cases_webhook_url,
        attempts=settings.cases_notify_attempts,
    )
