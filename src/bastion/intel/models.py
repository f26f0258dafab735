"""SQL tables of threat intelligence: listings, feeds and pulls, the change log, the
allow-list, sightings, enforcement devices and their policies, retro-hunt runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
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


class IndicatorRow(Base):
    """One source's listing of one indicator: (type, value, source) is unique."""

    __tablename__ = "indicators"
    __table_args__ = (UniqueConstraint("type", "value", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(2048))
    source: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(8))
    threat: Mapped[str] = mapped_column(String(200), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    first_seen: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime | None] = mapped_column(UtcDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Set by every change (never by a mere re-listing): what a live index catches up on.
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    tlp: Mapped[str] = mapped_column(String(16), default="AMBER", server_default="AMBER")
    listed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the source last listed it


class IndicatorChangeRow(Base):
    """Why a listing changed: created, updated, expired, reactivated, allow-listed."""

    __tablename__ = "intel_changes"
    __table_args__ = (Index("ix_intel_changes_indicator", "type", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(2048))
    source: Mapped[str | None] = mapped_column(String(100))
    change: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    pull_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class FeedRow(Base):
    """A feed: where to pull indicators from, how often, and what its last answer was."""

    __tablename__ = "intel_feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    interval_seconds: Mapped[int] = mapped_column(Integer)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    cursor: Mapped[str | None] = mapped_column(String(64))  # TAXII added_after
    last_pull_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class FeedPullRow(Base):
    """One pull of a feed and what it did."""

    __tablename__ = "intel_feed_pulls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(
        ForeignKey("intel_feeds.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))  # ok | not_modified | partial | failed
    http_status: Mapped[int | None] = mapped_column(Integer)
    read: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    expired: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)


class AllowRow(Base):
    """An allow-list entry: a network or domain that is never blocked or alerted on."""

    __tablename__ = "intel_allowlist"
    __table_args__ = (UniqueConstraint("type", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))  # cidr (addresses too) or domain
    value: Mapped[str] = mapped_column(String(2048))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SightingRow(Base):
    """How often, and when first and last, one indicator was seen at one organisation."""

    __tablename__ = "intel_sightings"
    __table_args__ = (UniqueConstraint("indicator", "org_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator: Mapped[str] = mapped_column(String(2100))  # type:value
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    count: Mapped[int] = mapped_column(BigInteger)


class PolicyRow(Base):
    """What a block list holds: which types, actions, how confident, and what TLP."""

    __tablename__ = "intel_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kinds: Mapped[list[str]] = mapped_column(JSON)  # ip, domain, url
    actions: Mapped[list[str]] = mapped_column(JSON)  # block, alert
    min_confidence: Mapped[int] = mapped_column(Integer)
    max_tlp: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DeviceRow(Base):
    """An enforcement point (a firewall) that pulls block lists with its own token."""

    __tablename__ = "intel_devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("intel_policies.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_pull_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
