"""SQL tables of detection: which rules are off, and the built-in checks' thresholds, per organisation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import BigInteger, Boolean, Integer, Select, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from bastion.core.timeutil import utcnow
from bastion.store.base import Base, UtcDateTime
from bastion.store.membership import one_of

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


Row = TypeVar("Row", RuleSettingRow, RuleThresholdRow)


def _visible(orgs: Sequence[str] | None) -> list[str] | None:
    """The org_codes of the settings ``orgs`` may see: the national ones and their own."""
    return None if orgs is None else [ALL_ORGANISATIONS, *(o.strip().upper() for o in orgs)]


def scoped(
    table: type[Row], *, rule_id: str | None = None, orgs: Sequence[str] | None = None
) -> Select[Row]:
    """Select a rule's (or every rule's) settings: national ones, and those of ``orgs`` (None: all).

    A member sees its own organisations' settings only: ``orgs`` is applied in SQL.
    """
    wanted = _visible(orgs)
    query = select(table)
    if rule_id is not None:
        query = query.where(table.rule_id == rule_id)
    if wanted is not None:
        query = query.where(one_of(table.org_code, wanted))
    return query
