"""The SQL tables of cases: the case, its organisations, links, observables, tasks, timeline.

Alerts are linked by their integer id alone (no foreign key): the alert store is
another context's, reached only through ``bastion.cases.alertlinks``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bastion.core.timeutil import utcnow
from bastion.store.base import Base, UtcDateTime

# What the response-time statistics read of a case besides its creation and closing.
STATS_COLUMNS = ("merged_into", "severity", "status", "acknowledged_at")


class CaseRow(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_open_age", "status", "merged_into", "created_at"),
        # The statistics' cases created or closed in a period, from the indexes alone.
        Index("ix_cases_created_stats", "created_at", *STATS_COLUMNS, "closed_at"),
        Index("ix_cases_closed_stats", "closed_at", *STATS_COLUMNS, "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(16), index=True)
    tlp: Mapped[str] = mapped_column(String(16))
    pap: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    owner: Mapped[str | None] = mapped_column(String(120))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    techniques: Mapped[list[str]] = mapped_column(JSON, default=list)
    patient_impact: Mapped[str] = mapped_column(String(16), default="none")
    clinical_systems: Mapped[list[str]] = mapped_column(JSON, default=list)
    downtime_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    personal_data: Mapped[bool] = mapped_column(Boolean, default=False)
    aware_at: Mapped[datetime] = mapped_column(UtcDateTime)
    breach_reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sector_reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolution: Mapped[str] = mapped_column(String(500), default="")
    merged_into: Mapped[int | None] = mapped_column(Integer)


class CaseOrgRow(Base):
    """One organisation a case belongs to: what tenancy filters on."""

    __tablename__ = "case_orgs"
    __table_args__ = (UniqueConstraint("case_id", "org_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    org_code: Mapped[str] = mapped_column(String(16), index=True)


class CaseAlertRow(Base):
    """An alert linked to a case; an alert belongs to one case at most."""

    __tablename__ = "case_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    alert_id: Mapped[int] = mapped_column(Integer, unique=True)


class CaseAdvisoryRow(Base):
    """A national cyber alert (advisory) the case relates to, by its reference."""

    __tablename__ = "case_advisories"
    __table_args__ = (UniqueConstraint("case_id", "ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    ref: Mapped[str] = mapped_column(String(16))


class ObservableRow(Base):
    __tablename__ = "case_observables"
    __table_args__ = (UniqueConstraint("case_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(2000), index=True)
    tlp: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(500), default="")


class CampaignRow(Base):
    """How many organisations and cases have one observable: kept by the cases service
    whenever an observable or a case's organisations change (``campaigns.recount``)."""

    __tablename__ = "case_campaigns"
    __table_args__ = (Index("ix_case_campaigns_spread", "organisations", "value"),)

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(2000), primary_key=True)
    organisations: Mapped[int] = mapped_column(Integer)
    cases: Mapped[int] = mapped_column(Integer)


class TaskRow(Base):
    __tablename__ = "case_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="todo")
    assignee: Mapped[str | None] = mapped_column(String(120))


class TimelineRow(Base):
    __tablename__ = "case_timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AttachmentRow(Base):
    """A file attached to a case; its bytes live on disk under their SHA-256."""

    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100))
    added_by: Mapped[str] = mapped_column(String(120))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CaseNotificationRow(Base):
    """One notification sent (or tried) about a case: e-mail or webhook, with its attempts."""

    __tablename__ = "case_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, index=True)
    org_code: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))  # assigned, new_case, clock:<name>
    channel: Mapped[str] = mapped_column(String(16))  # email, webhook
    recipient: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))  # sent, failed
    attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
