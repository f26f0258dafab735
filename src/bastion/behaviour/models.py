"""SQL tables of behavioural hunting: the allow-list, the results and the days already hunted."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bastion.core.timeutil import utcnow
from bastion.store.base import Base, UtcDateTime


class BehaviourAllowRow(Base):
    """Known-good traffic: a domain, address or fingerprint no result is raised for."""

    __tablename__ = "behaviour_allow"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str | None] = mapped_column(String(16), index=True)  # None: national
    kind: Mapped[str] = mapped_column(String(16))  # domain, address, fingerprint
    value: Mapped[str] = mapped_column(String(253))
    reason: Mapped[str] = mapped_column(Text)
    expires_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class BehaviourResultRow(Base):
    """One analytic's result for a (host, destination) pair of one organisation on one day."""

    __tablename__ = "behaviour_results"
    __table_args__ = (UniqueConstraint("org_code", "day", "analytic", "host", "dest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    analytic: Mapped[str] = mapped_column(String(32))
    host: Mapped[str] = mapped_column(String(64))
    dest: Mapped[str] = mapped_column(String(253))
    remote: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    parts: Mapped[dict[str, Any]] = mapped_column(JSON)
    connections: Mapped[int] = mapped_column(Integer)
    orgs: Mapped[int] = mapped_column(Integer)  # members where the destination scored too
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open, allowed, benign
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class BehaviourDayRow(Base):
    """A day of the archive the scheduled hunt has analysed (so it is not analysed again)."""

    __tablename__ = "behaviour_days"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    results: Mapped[int] = mapped_column(Integer)
    scanned_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
