"""Threat intelligence's public operations on the store: every other context goes through these."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from bastion.core.errors import InputError, NotFoundError
from bastion.core.timeutil import as_utc
from bastion.intel.index import INDICATOR_SCHEMA
from bastion.intel.indicator import Action, Indicator, IndicatorType, normalise, parse_severity
from bastion.intel.models import IndicatorRow

_CHUNK = 500  # keys per IN (...) query: well under every backend's parameter limit

Key = tuple[str, str, str]


def _to_domain(row: IndicatorRow) -> Indicator:
    return Indicator(
        type=IndicatorType(row.type),
        value=row.value,
        source=row.source,
        severity=parse_severity(row.severity),
        confidence=row.confidence,
        action=Action(row.action),
        threat=row.threat,
        tags=tuple(row.tags or ()),
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        valid_until=row.valid_until,
    )


def _columns(indicator: Indicator) -> dict[str, Any]:
    return {
        "severity": indicator.severity.value,
        "confidence": indicator.confidence,
        "action": indicator.action.value,
        "threat": indicator.threat,
        "tags": list(indicator.tags),
        "first_seen": indicator.first_seen,
        "last_seen": indicator.last_seen,
        "valid_until": indicator.valid_until,
    }


def save_indicators(session: Session, indicators: Iterable[Indicator]) -> tuple[int, int]:
    """Store indicators, replacing what a source said before about the same one.

    Return (created, updated). Listings are keyed by (type, value, source); when the
    input repeats a key, the last one wins.
    """
    latest: dict[Key, Indicator] = {(i.type.value, i.value, i.source): i for i in indicators}
    keys = list(latest)
    created = updated = 0
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        query = select(IndicatorRow).where(IndicatorRow.value.in_({k[1] for k in chunk}))
        existing = {(r.type, r.value, r.source): r for r in session.scalars(query)}
        for key in chunk:
            columns = _columns(latest[key])
            row = existing.get(key)
            if row is None:
                session.add(IndicatorRow(type=key[0], value=key[1], source=key[2], **columns))
                created += 1
            else:
                for name, value in columns.items():
                    setattr(row, name, value)
                updated += 1
        session.flush()
    return created, updated


def list_indicators(
    session: Session,
    *,
    type: IndicatorType | str | None = None,
    search: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[Indicator], int]:
    """Return one page of indicators matching the filters, and how many match in all.

    ``search`` is a case-insensitive part of the value, the threat name or the source.
    """
    query = select(IndicatorRow)
    if type is not None:
        query = query.where(IndicatorRow.type == IndicatorType.parse(str(type)).value)
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(IndicatorRow.value).like(pattern),
                func.lower(IndicatorRow.threat).like(pattern),
                func.lower(IndicatorRow.source).like(pattern),
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(IndicatorRow.type, IndicatorRow.value, IndicatorRow.source).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    return [_to_domain(r) for r in session.scalars(page)], total


def get_indicator(session: Session, indicator_id: str) -> list[Indicator]:
    """Return every source's listing of the indicator ``type:value``; raise NotFoundError."""
    kind, _, value = indicator_id.partition(":")
    if not value:
        msg = f"indicator id {indicator_id!r} is not type:value, like domain:evil.example"
        raise InputError(msg)
    found_type, found_value = normalise(IndicatorType.parse(kind), value)
    rows = session.scalars(
        select(IndicatorRow)
        .where(IndicatorRow.type == found_type.value, IndicatorRow.value == found_value)
        .order_by(IndicatorRow.source)
    ).all()
    if not rows:
        msg = f"no indicator {found_type.value}:{found_value}"
        raise NotFoundError(msg)
    return [_to_domain(r) for r in rows]


def _active(now: datetime) -> ColumnElement[bool]:
    moment = as_utc(now)
    return or_(IndicatorRow.valid_until.is_(None), IndicatorRow.valid_until > moment)


def active_indicators(session: Session, now: datetime) -> list[Indicator]:
    """Return every indicator not expired at ``now`` (no valid_until, or one after now)."""
    query = select(IndicatorRow).where(_active(now)).order_by(IndicatorRow.id)
    return [_to_domain(r) for r in session.scalars(query)]


def active_indicator_frame(session: Session, now: datetime) -> pl.DataFrame:
    """Return the indicators active at ``now`` as a frame for ``MatchIndex.from_frame``.

    The stored values are canonical already, so this skips building an ``Indicator``
    per row: the way to compile millions of them.
    """
    columns = [getattr(IndicatorRow, name) for name in INDICATOR_SCHEMA]
    rows = session.execute(select(*columns).where(_active(now)).order_by(IndicatorRow.id))
    return pl.DataFrame(rows.all(), schema=INDICATOR_SCHEMA, orient="row")
