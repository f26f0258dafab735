"""SQL tables of the alerts context: every alert, whoever raised it, and its triage history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bastion.core.timeutil import utcnow
from bastion.store.base import Base, UtcDateTime


class AlertRow(Base):
    """One alert: events of one indicator, rule or source at one member host, close in time."""

    __tablename__ = "alerts"
    __table_args__ = (
        # Finding the open alert a new group of events extends.
        Index("ix_alerts_match", "key", "last_seen"),
        # Finding the group a new alert joins: same organisation, host and observable.
        Index("ix_alerts_observable", "observable", "last_seen"),
        # Deduplicating alerts of external sources.
        Index("ix_alerts_source_ref", "source", "source_ref"),
        # The queue's first page, most recently seen first, by state…
        Index("ix_alerts_state_seen", "state", "last_seen", "id"),
        # … by state, severity and verdict…
        Index("ix_alerts_queue", "state", "severity", "verdict", "last_seen", "id"),
        # … by organisation and state (a member's queue)…
        Index("ix_alerts_org_queue", "org_code", "state", "last_seen", "id"),
        # … and by organisation alone (a member's whole list).
        Index("ix_alerts_org_seen", "org_code", "last_seen", "id"),
        # One day's alerts by creation, for its response roll-up.
        Index("ix_alerts_created", "created_at"),
        # The overview's sums over a fortnight (per day, per organisation), and the live
        # alerts' count, from the index alone.
        Index("ix_alerts_seen_summary", "last_seen", "verdict", "org_code", "count"),
        Index("ix_alerts_verdict", "verdict", "org_code"),
        # MTTA/MTTR per organisation and severity over a period, from the index alone.
        Index(
            "ix_alerts_response",
            "org_code",
            "severity",
            "created_at",
            "acknowledged_at",
            "closed_at",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The organisation's code as attributed, not a foreign key: an alert for an
    # organisation not (yet) in the federation must not be lost.
    org_code: Mapped[str | None] = mapped_column(String(16))
    host: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(500))
    severity: Mapped[str] = mapped_column(String(16))
    # blocked or live, decided from the evidence
    verdict: Mapped[str] = mapped_column(String(16))
    retrospective: Mapped[bool] = mapped_column(Boolean, default=False)
    indicator_type: Mapped[str | None] = mapped_column(String(32))
    indicator_value: Mapped[str | None] = mapped_column(Text)
    indicator_source: Mapped[str | None] = mapped_column(String(200))
    indicator_threat: Mapped[str | None] = mapped_column(String(200))
    count: Mapped[int] = mapped_column(BigInteger)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Triage: new, acknowledged, in_progress, closed; a resolution once closed.
    state: Mapped[str] = mapped_column(String(16), default="new")
    resolution: Mapped[str | None] = mapped_column(String(32))
    assignee: Mapped[str | None] = mapped_column(String(120), index=True)
    # When it first left ``new`` and when it was closed, as its history records them.
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The alert group: alerts of one organisation, host and observable, close in time.
    group_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # What the alert is about beyond the host: the indicator's value, the remote address.
    observable: Mapped[str | None] = mapped_column(String(200))
    # External sources (Defender, webhook): which one, and its own id of the alert.
    source: Mapped[str | None] = mapped_column(String(64))
    source_ref: Mapped[str | None] = mapped_column(String(200))


# The table itself, for bulk statements (executemany) that bypass the ORM.
ALERTS_TABLE = cast(Table, AlertRow.__table__)


class AlertHistoryRow(Base):
    """One triage change of one alert: who changed which field, when, from what to what.

    A note is a change of the field ``note`` whose ``after`` is the note's text.
    """

    __tablename__ = "alert_history"
    __table_args__ = (Index("ix_alert_history_field_at", "field", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    field: Mapped[str] = mapped_column(String(32))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)


class AlertDayRow(Base):
    """One day of alerts (by creation, UTC): how often they changed, and the roll-up's state.

    ``version`` counts the changes to the response figures of the day's alerts (an
    acknowledgement, a close, a raised severity); the roll-up of the day is current
    when ``rolled`` equals it and it was taken with today's acknowledgement targets.
    """

    __tablename__ = "alert_rollup_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    rolled: Mapped[int | None] = mapped_column(Integer)
    national_target: Mapped[float | None] = mapped_column(Float)  # seconds
    member_target: Mapped[float | None] = mapped_column(Float)


class AlertRollupRow(Base):
    """The response figures of one day's alerts of one severity, nationally."""

    __tablename__ = "alert_rollup"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    severity: Mapped[str] = mapped_column(String(16), primary_key=True)
    alerts: Mapped[int] = mapped_column(Integer)
    acknowledged: Mapped[int] = mapped_column(Integer)
    closed: Mapped[int] = mapped_column(Integer)
    tta_seconds: Mapped[float] = mapped_column(Float)  # summed
    ttr_seconds: Mapped[float] = mapped_column(Float)
    within_national: Mapped[int] = mapped_column(Integer)  # acknowledged within the target
    within_member: Mapped[int] = mapped_column(Integer)


class AlertSeenDayRow(Base):
    """One day of alerts by last seen (UTC): how often what the overview sums of it changed.

    ``version`` counts the changes to the day's alerts, events and blocked alerts (a new
    alert, an alert extended onto or off the day, a verdict gone live); the overview's
    roll-up (``alert_summary``), the rules page's (``alert_rule_summary``) and the
    day's count by verdict (``alert_verdict_days``) are current while the versions they
    were taken at stand.
    """

    __tablename__ = "alert_summary_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class AlertSummaryRow(Base):
    """The national sums of one group of the alerts last seen in the roll-up's days.

    ``kind`` is ``day`` (``name`` the ISO date), ``org`` (the organisation's code),
    ``rule`` (the rule's id, ``label`` the alerts' title) or ``indicator`` (its value,
    ``label`` its type); ``head`` is the name's start, indexed (a name may be long).
    """

    __tablename__ = "alert_summary"
    __table_args__ = (
        Index("ix_alert_summary_top", "kind", "events"),
        Index("ix_alert_summary_head", "kind", "head"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text)
    head: Mapped[str] = mapped_column(String(64))
    alerts: Mapped[int] = mapped_column(Integer)
    blocked: Mapped[int] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(BigInteger)


class AlertRuleSummaryRow(Base):
    """The national count of the rule alerts last seen in the rules page's whole past days
    that name one rule: ``family`` is ``sigma:`` or ``builtin:``, ``rule`` the rule's id
    (see ``bastion.alerts.summary.count_rule_alerts``)."""

    __tablename__ = "alert_rule_summary"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    family: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(Text)
    alerts: Mapped[int] = mapped_column(Integer)


class AlertVerdictDayRow(Base):
    """The alerts last seen on one past day (UTC), nationally: how many, and how many of
    them live, counted at the day's ``version`` of ``alert_summary_days`` (the overview's
    totals; see ``bastion.alerts.summary.count_alerts_live``)."""

    __tablename__ = "alert_verdict_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    alerts: Mapped[int] = mapped_column(BigInteger)
    live: Mapped[int] = mapped_column(BigInteger)


class AlertSummaryStateRow(Base):
    """Which days a roll-up of the alerts by last seen sums (``[first_day, end_day)``) and
    the summed versions of those days when it was taken: id 1 ``alert_summary``'s, id 2
    ``alert_rule_summary``'s."""

    __tablename__ = "alert_summary_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_day: Mapped[date | None] = mapped_column(Date)
    end_day: Mapped[date | None] = mapped_column(Date)
    versions: Mapped[int | None] = mapped_column(BigInteger)
