"""SQL table of correlation state: the open windows, so they survive a restart."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from bastion.core.timeutil import utcnow
from bastion.store.base import Base, UtcDateTime


class CorrelationStateRow(Base):
    """The held observations of one correlation rule in one state partition.

    ``data`` is the observations as an Arrow IPC stream (zstd); one row per
    (partition, rule) is rewritten per save. The row with ``rule_key`` ``*``
    carries the engine's counters even when no window is open.
    """

    __tablename__ = "correlation_state"

    partition: Mapped[str] = mapped_column(String(100), primary_key=True)
    rule_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    watermark: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_seq: Mapped[int] = mapped_column(BigInteger)
    batches: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
