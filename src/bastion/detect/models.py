"""SQL tables of detection: which rules are off, and the built-in checks' thresholds, per organisation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bastion.core.timeutil import utcnow
from bastion.store.base import Base, UtcDateTime

ALL_ORGANISATIONS = ""  # org_code of a setting that applies to every organisation


class RuleSettingRow(Base):
    """A rule enabled or disabled, globally (org_code "") or for one organisation."""

    __tablename__ = "detect_rule_settings"
    __table_args__ = (UniqueConstraint("rule_id", "org_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    org_code: Mapped[str] = mapped_column(String(16), default=ALL_ORGANISATIONS)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RuleThresholdRow(Base):
    """A built-in check's threshold set for everyone (org_code "") or for one organisation."""

    __tablename__ = "detect_rule_thresholds"
    __table_args__ = (UniqueConstraint("rule_id", "org_code", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    org_code: Mapped[str] = mapped_column(String(16), default=ALL_ORGANISATIONS)
    name: Mapped[str] = mapped_column(String(32))
    value: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
