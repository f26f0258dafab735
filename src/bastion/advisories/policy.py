"""Response deadlines as policy data: read from a TOML file, never written into code paths.

The defaults follow the reference centre: high-severity alerts are acknowledged
within 48 hours; critical and high vulnerabilities are remediated within 14 days
(the Cyber Essentials rule) or by the KEV due date when that is later than the
alert and sooner. A deployment changes them in ``<data_dir>/advisories-policy.toml``
(or the file named by ``BASTION_ADVISORIES_POLICY``):

    ack_hours = { high = 48, medium = 168 }
    remediation_days = { critical = 14, high = 14, medium = 30 }
"""

from __future__ import annotations

import os
import tomllib
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bastion.core.errors import ConfigError

POLICY_ENV = "BASTION_ADVISORIES_POLICY"
SEVERITY_ORDER = ("information", "low", "medium", "high", "critical")


class Policy(BaseModel):
    """Deadlines by severity; a severity not listed has no deadline."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ack_hours: dict[str, int] = Field(default_factory=lambda: {"high": 48})
    remediation_days: dict[str, int] = Field(default_factory=lambda: {"critical": 14, "high": 14})
    use_kev_due_date: bool = True
    next_update_days: int = Field(default=7, ge=1)
    reminder_every_hours: int = Field(default=24, ge=1)

    def ack_due(self, severity: str, published: datetime) -> datetime | None:
        hours = self.ack_hours.get(severity)
        return None if hours is None else published + timedelta(hours=hours)

    def remediation_due(
        self, severities: list[str], published: datetime, kev_due: list[date]
    ) -> datetime | None:
        """The earliest of the severity rule and any KEV due date after publication."""
        candidates = [
            published + timedelta(days=self.remediation_days[s])
            for s in severities
            if s in self.remediation_days
        ]
        if self.use_kev_due_date:
            candidates += [
                datetime.combine(d, time(23, 59, 59), tzinfo=UTC)
                for d in kev_due
                if d >= published.date()
            ]
        return min(candidates) if candidates else None


def load_policy(data_dir: Path | None = None, environ: dict[str, str] | None = None) -> Policy:
    """Read the policy file if there is one, else the defaults; raise ConfigError."""
    env = os.environ if environ is None else environ
    path = Path(env[POLICY_ENV]) if env.get(POLICY_ENV) else None
    if path is None and data_dir is not None:
        path = data_dir / "advisories-policy.toml"
    if path is None or not path.is_file():
        if env.get(POLICY_ENV):
            msg = f"{path}: advisories policy file not found ({POLICY_ENV})"
            raise ConfigError(msg)
        return Policy()
    try:
        return Policy(**tomllib.loads(path.read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        msg = f"{path}: invalid advisories policy: {exc}"
        raise ConfigError(msg) from None
