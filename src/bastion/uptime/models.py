"""SQL tables of uptime: monitors, maintenance, vantage points, SLOs, alerts, incidents, notices.

Probe results themselves are not here: they live as Parquet in
``bastion.uptime.history`` (minutes, hours, days), far too many for rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bastion.core.timeutil import utcnow
from bastion.store.base import Base, UtcDateTime


class MonitorRow(Base):
    __tablename__ = "uptime_monitors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(500))
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    service: Mapped[str] = mapped_column(String(120), index=True)
    tags: Mapped[list[str]] = mapped_column(JSON)
    interval_s: Mapped[int] = mapped_column(Integer)
    timeout_s: Mapped[float] = mapped_column(Float)
    retries: Mapped[int] = mapped_column(Integer)
    quorum: Mapped[int] = mapped_column(Integer)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    public: Mapped[bool] = mapped_column(Boolean)
    paused: Mapped[bool] = mapped_column(Boolean)
    push_token: Mapped[str] = mapped_column(String(64), unique=True)
    last_push_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16))  # unknown, up, down, maintenance
    state_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class MaintenanceRow(Base):
    __tablename__ = "uptime_maintenance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    monitor_id: Mapped[int | None] = mapped_column(
        ForeignKey("uptime_monitors.id", ondelete="CASCADE")
    )
    service: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    minutes: Mapped[int] = mapped_column(Integer)
    repeat: Mapped[str] = mapped_column(String(16))


class AgentRow(Base):
    """A vantage point, known from the results it sends."""

    __tablename__ = "uptime_agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    location: Mapped[str] = mapped_column(String(120))
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    results: Mapped[int] = mapped_column(Integer)
    silent: Mapped[bool] = mapped_column(Boolean)


class SloRow(Base):
    __tablename__ = "uptime_slos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    service: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(120))
    target: Mapped[float] = mapped_column(Float)
    period_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class BurnAlertRow(Base):
    """One burn-rate alert of an SLO: when it fired, how hard, when it stopped."""

    __tablename__ = "uptime_burn_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slo_id: Mapped[int] = mapped_column(
        ForeignKey("uptime_slos.id", ondelete="CASCADE"), index=True
    )
    severity: Mapped[str] = mapped_column(String(16))
    rules: Mapped[list[str]] = mapped_column(JSON)
    burn: Mapped[dict[str, float]] = mapped_column(JSON)
    fired_at: Mapped[datetime] = mapped_column(UtcDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class IncidentRow(Base):
    __tablename__ = "uptime_incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str | None] = mapped_column(String(16), index=True)  # None: national
    service: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))
    impact: Mapped[str] = mapped_column(String(16))
    public: Mapped[bool] = mapped_column(Boolean)
    automatic: Mapped[bool] = mapped_column(Boolean)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    organisations: Mapped[list[str]] = mapped_column(JSON)  # a national incident's members


class IncidentUpdateRow(Base):
    __tablename__ = "uptime_incident_updates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("uptime_incidents.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(120))


class StatusPageRow(Base):
    """A public status page: one service group of one organisation (or national)."""

    __tablename__ = "uptime_status_pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    services: Mapped[list[str]] = mapped_column(JSON)


class UptimeNotificationRow(Base):
    """A notification sent (or tried): by which channel, to whom, after how many attempts."""

    __tablename__ = "uptime_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str | None] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CertificateNoticeRow(Base):
    """A certificate found expiring within one warning threshold: told once per org and threshold."""

    __tablename__ = "uptime_certificate_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    threshold_days: Mapped[int] = mapped_column(Integer)
    monitor_id: Mapped[int] = mapped_column(
        ForeignKey("uptime_monitors.id", ondelete="CASCADE"), index=True
    )
    days_left: Mapped[float] = mapped_column(Float)
    notified_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("org_code", "sha256", "threshold_days"),)
