"""Threat intelligence's public operations on the store: every other context goes through these."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from bastion import audit
from bastion.audit import Actor
from bastion.core.errors import InputError, Location, NotFoundError
from bastion.core.timeutil import as_utc, utcnow
from bastion.intel.index import INDICATOR_SCHEMA, MatchIndex
from bastion.intel.indicator import (
    Action,
    Indicator,
    IndicatorType,
    normalise,
    parse_severity,
    parse_tlp,
)
from bastion.intel.lifecycle import (
    DEFAULT_HALF_LIFE_DAYS,
    Change,
    allowed_mask,
    allowlist,
    decayed_confidence,
    record_changes,
)
from bastion.intel.models import AllowRow, IndicatorRow
from bastion.store.paging import contains_text, page_of

_CHUNK = 500  # keys per IN (...) query: well under every backend's parameter limit

Key = tuple[str, str, str]

# What a list of indicators may be sorted by.
SORTS: dict[str, Any] = {
    "value": IndicatorRow.value,
    "type": IndicatorRow.type,
    "source": IndicatorRow.source,
    "severity": IndicatorRow.severity,
    "confidence": IndicatorRow.confidence,
    "updated": IndicatorRow.updated_at,
    "valid_until": IndicatorRow.valid_until,
}


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
        tlp=parse_tlp(row.tlp),
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
        "tlp": indicator.tlp.value,
    }


@dataclass(frozen=True)
class SaveStats:
    """What storing a set of listings did."""

    created: int = 0
    changed: int = 0
    unchanged: int = 0
    expired: int = 0  # listings the source no longer gives (snapshot feeds)


def _differences(row: IndicatorRow, columns: dict[str, Any], now: datetime) -> list[str]:
    """Name the fields a new listing changes ."""
    changed = []
    for name, value in columns.items():
        old = getattr(row, name)
        if isinstance(old, datetime) and isinstance(value, datetime):
            if as_utc(old) != as_utc(value):
                changed.append(name)
        elif name == "first_seen" and value is None:
            continue  # a source that stops giving first_seen does not forget it
        elif old != value and not (name == "tags" and list(old or []) == list(value)):
            changed.append(name)
    return changed


def store_listings(
    session: Session,
    indicators: Iterable[Indicator],
    *,
    actor: Actor,
    reason: str,
    target: str | None = None,
    now: datetime | None = None,
) -> SaveStats:
    """Store listings, replacing what a source said before about the same one; audited.

    Every listing's change goes to its change log with ``reason``; the call as a
    whole is one ``intel.import`` event in the audit trail, of ``target``
    (``file:list.txt``; ``import:<reason>`` unless given).
    """
    stats = _store_listings(session, indicators, reason=reason, now=now)
    audit.record(
        session,
        actor,
        "intel.import",
        target or f"import:{reason}",
        after={"created": stats.created, "changed": stats.changed, "unchanged": stats.unchanged},
    )
    return stats


def add_indicator(
    session: Session, indicator: Indicator, *, actor: Actor, now: datetime | None = None
) -> SaveStats:
    """List one indicator by hand (its source's listing is replaced); audited."""
    stats = _store_listings(session, [indicator], reason=f"added by {actor}", now=now)
    audit.record(
        session,
        actor,
        "intel.indicator_add",
        f"indicator:{indicator.id}",
        after={
            "source": indicator.source,
            "created": bool(stats.created),
            "severity": indicator.severity,
            "confidence": indicator.confidence,
            "action": indicator.action,
            "threat": indicator.threat,
            "tlp": indicator.tlp,
            "valid_until": indicator.valid_until,
        },
    )
    return stats


def _store_listings(
    session: Session,
    indicators: Iterable[Indicator],
    *,
    reason: str,
    now: datetime | None = None,
    pull_id: int | None = None,
) -> SaveStats:
    """Store listings, replacing what a source said before about the same one; log each change.

    Listings are keyed by (type, value, source); when the input repeats a key, the
    last one wins. Every listing is stamped as listed ``now``: without a ``last_seen``
    of its own, that restarts its confidence decay, and is not a change. Not
    audited: the public functions that call it record the change they make.
    """
    moment = as_utc(now or utcnow())
    latest: dict[Key, Indicator] = {(i.type.value, i.value, i.source): i for i in indicators}
    keys = list(latest)
    created = changed = unchanged = 0
    changes: list[dict[str, Any]] = []
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        query = select(IndicatorRow).where(IndicatorRow.value.in_({k[1] for k in chunk}))
        existing = {(r.type, r.value, r.source): r for r in session.scalars(query)}
        fresh = []
        refreshed: list[int] = []
        for key in chunk:
            columns = _columns(latest[key])
            row = existing.get(key)
            log = {"type": key[0], "value": key[1], "source": key[2], "at": moment}
            if row is None:
                fresh.append(
                    {
                        "type": key[0],
                        "value": key[1],
                        "source": key[2],
                        **columns,
                        "created_at": moment,
                        "updated_at": moment,
                    }
                )
                changes.append({**log, "change": Change.CREATED, "reason": reason})
                created += 1
                continue
            fields = _differences(row, columns, moment)
            was_expired = row.valid_until is not None and as_utc(row.valid_until) <= moment
            now_active = columns["valid_until"] is None or columns["valid_until"] > moment
            if columns["first_seen"] is None:
                columns["first_seen"] = row.first_seen
            if not fields:
                refreshed.append(row.id)
                unchanged += 1
                continue
            row.listed_at = moment
            for name in fields:
                setattr(row, name, columns[name])
            row.updated_at = moment
            kind = Change.REACTIVATED if was_expired and now_active else Change.UPDATED
            changes.append({**log, "change": kind, "reason": f"{reason}: {', '.join(fields)}"})
            changed += 1
        session.flush()
        if fresh:
            session.execute(insert(IndicatorRow), fresh)
        if refreshed:
            session.execute(
                update(IndicatorRow)
                .where(IndicatorRow.id.in_(refreshed))
                .values(listed_at=moment)
                .execution_options(synchronize_session=False)
            )
    record_changes(session, changes, pull_id=pull_id)
    session.flush()
    return SaveStats(created, changed, unchanged)


def save_indicators(
    session: Session, indicators: Iterable[Indicator], *, actor: Actor
) -> tuple[int, int]:
    """Store indicators, replacing what a source said before about the same one; audited.

    Return (created, updated). Listings are keyed by (type, value, source); when the
    input repeats a key, the last one wins.
    """
    stats = store_listings(session, indicators, actor=actor, reason="imported")
    return stats.created, stats.changed + stats.unchanged


def list_indicators(
    session: Session,
    *,
    type: IndicatorType | str | None = None,
    search: str | None = None,
    source: str | None = None,
    active: bool | None = None,
    now: datetime | None = None,
    sort: str = "value",
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[Indicator], int]:
    """Return one page of indicators matching the filters, and how many match in all.

    ``search`` is a case-insensitive part of the value, the threat name or the source;
    ``source`` an exact source; ``active`` keeps listings valid (or expired) at ``now``;
    ``sort`` is one of ``SORTS`` (a leading ``-`` reverses it).
    """
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    if key not in SORTS:
        msg = f"unknown sort {sort!r}; choose one of {', '.join(SORTS)} (a leading - reverses)"
        raise InputError(msg, Location(field="sort"))
    query = select(IndicatorRow)
    if type is not None:
        query = query.where(IndicatorRow.type == IndicatorType.parse(str(type)).value)
    if source is not None:
        query = query.where(IndicatorRow.source == source.strip())
    if active is not None:
        live = _active(now or utcnow())
        query = query.where(live if active else ~live)
    if search:
        query = query.where(
            contains_text(search, IndicatorRow.value, IndicatorRow.threat, IndicatorRow.source)
        )
    first = SORTS[key]
    order = [first.desc() if descending else first.asc()]
    order += [IndicatorRow.type, IndicatorRow.value, IndicatorRow.source, IndicatorRow.id]
    rows, total = page_of(session, query, *order, limit=limit, offset=offset)
    return [_to_domain(r) for r in rows], total


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


LISTING_SCHEMA: dict[str, pl.DataType] = {
    **INDICATOR_SCHEMA,
    "tlp": pl.String(),
    "seen": pl.Datetime("us", "UTC"),
    "valid_until": pl.Datetime("us", "UTC"),
}


def listing_frame(
    session: Session,
    now: datetime,
    *,
    where: ColumnElement[bool] | None = None,
    changed_since: datetime | None = None,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> pl.DataFrame:
    """Return active, not allow-listed listings in ``LISTING_SCHEMA``, confidence decayed.

    ``where`` narrows the query further (the listings of some indicators only);
    ``changed_since`` keeps the indicators changed after that moment only.
    """
    seen = func.coalesce(IndicatorRow.last_seen, IndicatorRow.listed_at, IndicatorRow.created_at)
    columns = [getattr(IndicatorRow, name) for name in INDICATOR_SCHEMA]
    query = select(*columns, IndicatorRow.tlp, seen, IndicatorRow.valid_until).where(_active(now))
    if where is not None:
        query = query.where(where)
    if changed_since is not None:
        query = query.where(IndicatorRow.updated_at > as_utc(changed_since))
    rows = session.execute(query.order_by(IndicatorRow.id)).all()
    frame = pl.DataFrame(rows, schema=LISTING_SCHEMA, orient="row")
    frame = frame.filter(~allowed_mask(frame, allowlist(session)))
    return frame.with_columns(
        confidence=decayed_confidence(pl.col("confidence"), pl.col("seen"), now, half_life_days)
    )


def active_indicator_frame(session: Session, now: datetime) -> pl.DataFrame:
    """Return the indicators active at ``now`` as a frame for ``MatchIndex.from_frame``.

    The stored values are canonical already, so this skips building an ``Indicator``
    per row: the way to compile millions of them. The allow-list always wins: what it
    covers is left out. Confidence is decayed with age.
    """
    return listing_frame(session, now).select(list(INDICATOR_SCHEMA))


@dataclass(frozen=True)
class IndexChanges:
    """What changed in the store since a moment: listings to (re)compile and ids to drop."""

    listings: pl.DataFrame  # INDICATOR_SCHEMA: every active listing of each changed indicator
    removed: list[str]  # ids (type:value) changed since, with no active listing left
    until: datetime  # pass this as ``since`` next time
    rebuild: bool = False  # the allow-list grew: every indicator may be affected


def index_changes(session: Session, since: datetime, now: datetime) -> IndexChanges:
    """Return what a live ``MatchIndex`` needs to catch up with changes made after ``since``."""
    moment = as_utc(now)
    start = as_utc(since)
    # Changed since, or lapsed since (valid_until passed without anyone touching the row).
    touched = session.execute(
        select(IndicatorRow.type, IndicatorRow.value)
        .where(
            or_(
                IndicatorRow.updated_at > start,
                and_(IndicatorRow.valid_until > start, IndicatorRow.valid_until <= moment),
            )
        )
        .distinct()
    ).all()
    allowed_since = session.scalar(select(func.count()).where(AllowRow.created_at > start)) or 0
    ids = {f"{t}:{v}" for t, v in touched}
    parts = []
    values = sorted({v for _, v in touched})
    for first in range(0, len(values), _CHUNK):
        chunk = values[first : first + _CHUNK]
        parts.append(listing_frame(session, moment, where=IndicatorRow.value.in_(chunk)))
    listings = (
        pl.concat(parts).select(list(INDICATOR_SCHEMA))
        if parts
        else pl.DataFrame(schema=INDICATOR_SCHEMA)
    )
    listings = listings.filter(
        pl.concat_str("type", pl.lit(":"), "value").is_in(
            pl.Series(sorted(ids), dtype=pl.String).implode()
        )
    )
    live = set(listings.select(pl.concat_str("type", pl.lit(":"), "value")).to_series().to_list())
    return IndexChanges(listings, sorted(ids - live), moment, rebuild=allowed_since > 0)


def refresh_index(
    session: Session, index: MatchIndex, since: datetime, *, now: datetime
) -> tuple[MatchIndex, datetime]:
    """Return ``index`` caught up with the store's changes since ``since``, and the new mark.

    Only the changed indicators are compiled (``MatchIndex.with_changes``); a grown
    delta or a new allow-list entry rebuilds the whole index instead. Swap the
    result in between batches: it goes live without a restart.
    """
    changes = index_changes(session, since, now)
    if changes.rebuild or index.needs_rebuild:
        return MatchIndex.from_frame(active_indicator_frame(session, now)), changes.until
    if not changes.listings.height and not changes.removed:
        return index, changes.until
    return index.with_changes(changes.listings, changes.removed), changes.until
