"""SQL tables of the boundary pipeline: ingest checkpoints, retro-hunt runs, workers, legal holds."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bastion.core.timeutil import utcnow
from bastion.store.base import Base, UtcDateTime


class IngestSourceRow(Base):
    """How far one source (a file, by content fingerprint) has been processed."""

    __tablename__ = "ingest_sources"

    key: Mapped[str] = mapped_column(String(256), primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(32))
    offset: Mapped[int] = mapped_column(BigInteger)  # bytes fully processed
    size: Mapped[int | None] = mapped_column(BigInteger)  # null for streams
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class IngestBatchRow(Base):
    """A batch whose outputs are committed; its id makes reprocessing a no-op."""

    __tablename__ = "ingest_batches"

    batch_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    source_key: Mapped[str] = mapped_column(String(256), index=True)
    events: Mapped[int] = mapped_column(Integer)
    rejects: Mapped[int] = mapped_column(Integer)
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RetroHuntRow(Base):
    """One retro-hunt run: which indicators (changed since when) over how many days."""

    __tablename__ = "intel_retrohunts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    days: Mapped[int] = mapped_column(Integer)
    indicators: Mapped[int] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(BigInteger)
    alerts: Mapped[int] = mapped_column(Integer)


class SavedHuntRow(Base):
    """A hunt query kept under a name by its owner, for them alone or shared with every hunter."""

    __tablename__ = "saved_hunts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sql: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(120), index=True)  # the actor: ``user:alice``
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class WorkerBeatRow(Base):
    """A boundary worker's last heartbeat: who it is, where, and what it is doing."""

    __tablename__ = "boundary_workers"

    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_beat: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    state: Mapped[str] = mapped_column(String(32))  # running, blocked, stopped
    reason: Mapped[str] = mapped_column(Text, default="")  # why it is blocked
    batches: Mapped[int] = mapped_column(BigInteger, default=0)
    events: Mapped[int] = mapped_column(BigInteger, default=0)
    dead_letters: Mapped[int] = mapped_column(BigInteger, default=0)


class ArchiveHoldRow(Base):
    """A legal hold: an organisation's archived days (all, or a range) kept past retention."""

    __tablename__ = "archive_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    first_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    last_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
