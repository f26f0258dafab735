"""SQL tables of the password service: policies, and counts of checks (never a password)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bastion.core.timeutil import utcnow
from bastion.store.base import Base, UtcDateTime

NATIONAL = ""  # org_code of the national default policy


class PasswordPolicyRow(Base):
    """One organisation's password policy, or the national default (org_code "")."""

    __tablename__ = "password_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    banned_terms: Mapped[list[str]] = mapped_column(JSON)
    scoring: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PasswordCheckCountRow(Base):
    """How many checks of one organisation on one day ended with one reason."""

    __tablename__ = "password_check_counts"
    __table_args__ = (UniqueConstraint("org_code", "day", "reason"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(32))
    checks: Mapped[int] = mapped_column(Integer)


class PasswordAuditRow(Base):
    """One directory audit's report: account names only, never a hash (those are discarded)."""

    __tablename__ = "password_audits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(300))
    accounts: Mapped[int] = mapped_column(Integer)
    breached: Mapped[list[str]] = mapped_column(JSON)
    shared: Mapped[list[list[str]]] = mapped_column(JSON)
    empty: Mapped[list[str]] = mapped_column(JSON)
    bad_lines: Mapped[list[int]] = mapped_column(JSON)
