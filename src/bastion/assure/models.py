"""The SQL tables of assurance: frameworks, returns, their published versions, reviews, actions, scores.

A return keeps its answers as one mark per statement in the framework's order
(``1`` met, ``0`` not met, ``.`` unanswered) and its published outcome statuses as
one digit per outcome (an index into the framework's statuses): 41,000 returns are
then read and derived as one matrix, not as 41,000 x 200 rows.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bastion.core.timeutil import utcnow
from bastion.store.base import Base, UtcDateTime

BOARD_COLUMNS = (
    "period", "framework", "org_type", "region", "icb", "status", "published_late", "deadline",
    "published_at", "org_code",
)  # fmt: skip


class FrameworkRow(Base):
    """One version of a framework library, as imported (its document is the validated YAML)."""

    __tablename__ = "assure_frameworks"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    outcomes: Mapped[int] = mapped_column(Integer)
    statements: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(120))


class ReturnRow(Base):
    """An organisation's return for one period against one framework: working and published."""

    __tablename__ = "assure_returns"
    __table_args__ = (
        UniqueConstraint("org_code", "period", "framework"),
        # The dashboard's status counts and late list, read from the index alone.
        Index("ix_assure_returns_board", *BOARD_COLUMNS),
        # The weakest outcomes: every published outcome digit of a period, from the index alone.
        Index("ix_assure_returns_marks", "period", "framework", "outcome_marks"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    period: Mapped[str] = mapped_column(String(9))  # 2024-25: ix_assure_returns_board leads with it
    framework: Mapped[str] = mapped_column(String(64))  # key@version
    org_type: Mapped[str] = mapped_column(String(32), default="other")
    region: Mapped[str] = mapped_column(String(64), default="")
    icb: Mapped[str] = mapped_column(String(120), default="")
    profile: Mapped[str] = mapped_column(String(16), default="baseline")
    state: Mapped[str] = mapped_column(String(16), default="draft")  # draft, published
    marks: Mapped[str] = mapped_column(Text, default="")
    comments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    owners: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)  # published versions so far
    status: Mapped[str | None] = mapped_column(String(40), index=True)  # latest published
    outcome_marks: Mapped[str] = mapped_column(Text, default="")  # latest published
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    deadline: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16), default="entered")  # entered, snapshot, demo
    drift: Mapped[list[Any]] = mapped_column(JSON, default=list)
    drift_count: Mapped[int] = mapped_column(Integer, default=0, index=True)
    published_late: Mapped[bool] = mapped_column(Boolean, default=False)  # after its deadline
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class ReturnVersionRow(Base):
    """One published version of a return: never changed (the database refuses to)."""

    __tablename__ = "assure_return_versions"
    __table_args__ = (UniqueConstraint("return_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("assure_returns.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_by: Mapped[str] = mapped_column(String(120))
    marks: Mapped[str] = mapped_column(Text)
    outcome_marks: Mapped[str] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(40))
    comments: Mapped[dict[str, Any]] = mapped_column(JSON)
    diff: Mapped[dict[str, Any]] = mapped_column(JSON)


class ReviewRow(Base):
    """A self, peer or independent review of a return, by one reviewer."""

    __tablename__ = "assure_reviews"
    __table_args__ = (UniqueConstraint("return_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("assure_returns.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # self, peer, independent
    reviewer: Mapped[str] = mapped_column(String(120), index=True)
    state: Mapped[str] = mapped_column(String(24), default="to_do")
    comments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # outcome -> [notes]
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ActionRow(Base):
    """An improvement-plan action; open actions pass to the organisation's next period."""

    __tablename__ = "assure_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    period: Mapped[str] = mapped_column(String(9))
    framework_key: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(String(1000))
    owner: Mapped[str] = mapped_column(String(120))
    due: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, done
    inherited_from: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ScoreRow(Base):
    """One Cyber Essentials Plus readiness score of an organisation, at a time: its history."""

    __tablename__ = "assure_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    org_type: Mapped[str] = mapped_column(String(32), default="other")
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    score: Mapped[float] = mapped_column(Float)
    controls: Mapped[dict[str, Any]] = mapped_column(JSON)


class ReminderRow(Base):
    """One reminder e-mail: a return due or overdue, a return missing, a review to do."""

    __tablename__ = "assure_reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    period: Mapped[str] = mapped_column(String(9))
    kind: Mapped[str] = mapped_column(String(80))  # due, overdue, missing, review:<kind>:<who>
    return_id: Mapped[int | None] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))  # sent, failed
    attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
