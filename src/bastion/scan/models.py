"""SQL tables of threat scanning: findings, exceptions, per-organisation policies, target state."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bastion.core.timeutil import utcnow
from bastion.store.base import Base, UtcDateTime


class ScanFindingRow(Base):
    """One finding in its normal form (organisation, host, port, check, detail)."""

    __tablename__ = "scan_findings"
    __table_args__ = (UniqueConstraint("org_code", "host", "port", "check_name", "detail"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer)  # 0: the host's web service, whatever the port
    check_name: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    severity: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    remediation: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    seen_at: Mapped[list[str]] = mapped_column(JSON)  # "address:port" where it was observed
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    status_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    alert_raised: Mapped[bool] = mapped_column(Boolean, default=False)
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the last reminder sent


class ScanExceptionRow(Base):
    """An exception: a host, or one check on it, is neither scanned nor reported until it expires."""

    __tablename__ = "scan_exceptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    host: Mapped[str] = mapped_column(String(253))
    check_name: Mapped[str | None] = mapped_column(String(32))  # None: the whole host
    reason: Mapped[str] = mapped_column(Text)
    expires_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))  # requested, approved, rejected
    requested_by: Mapped[str] = mapped_column(String(120))
    decided_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ScanPolicyRow(Base):
    """One organisation's scanning policy: opt-in ranges, risk, quiet hours."""

    __tablename__ = "scan_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16), unique=True)
    scan_ranges: Mapped[bool] = mapped_column(Boolean, default=False)
    high_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    quiet_hours: Mapped[str | None] = mapped_column(String(16))  # "HH:MM-HH:MM", local time
    dkim_selectors: Mapped[list[str] | None] = mapped_column(JSON)  # its mail domains' selectors
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ScanTargetRow(Base):
    """When a host was last scanned and when it is next due (a targeted rescan brings it forward)."""

    __tablename__ = "scan_targets"
    __table_args__ = (UniqueConstraint("org_code", "host"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16))
    host: Mapped[str] = mapped_column(String(253))
    last_scan_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    due_reason: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # last results per check


class ScanCanaryHitRow(Base):
    """One DNS lookup of a canary name seen by the canary listener."""

    __tablename__ = "scan_canary_hits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), index=True)
    qname: Mapped[str] = mapped_column(String(253))
    source: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ScanNotificationRow(Base):
    """One digest or reminder sent (or tried) to an organisation by one channel."""

    __tablename__ = "scan_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # digest, reminder
    channel: Mapped[str] = mapped_column(String(16))  # email, webhook
    recipient: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))  # sent, failed
    attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(500))
    findings: Mapped[list[int]] = mapped_column(JSON)  # the finding ids it told of
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
