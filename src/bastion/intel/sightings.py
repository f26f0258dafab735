"""Sightings: which indicator was seen at which organisation, first, last and how often.

``record_sightings`` takes the boundary's matches as one frame (alert candidates
or any frame with ``indicator.id``, ``organization.id`` and ``@timestamp``),
aggregates them with Polars and upserts one row per (indicator, organisation) in
a single INSERT … ON CONFLICT statement: no SQL per event. Sightings export as
STIX 2.1 ``sighting`` objects.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import polars as pl
from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bastion.core.errors import InputError
from bastion.core.timeutil import as_utc, utcnow
from bastion.intel.models import SightingRow

# Deterministic STIX ids: the same indicator or organisation always gets the same one.
_NAMESPACE = uuid.UUID("6f1d3c8e-5b7a-4c1e-9a53-2f0c9d8e4b71")


@dataclass(frozen=True)
class Sighting:
    """One indicator at one organisation."""

    indicator: str
    org: str
    first_seen: datetime
    last_seen: datetime
    count: int


def _frame(matches: pl.DataFrame, now: datetime) -> pl.DataFrame:
    if "indicator.id" in matches.columns:
        ids = matches
    elif {"kind", "key"} <= set(matches.columns):  # alert candidates: indicator hits only
        ids = matches.filter(pl.col("kind") == "indicator").rename({"key": "indicator.id"})
    else:
        msg = "sightings need a column indicator.id (or alert candidates with kind and key)"
        raise InputError(msg)
    if "organization.id" not in ids.columns:
        msg = "sightings need the column organization.id"
        raise InputError(msg)
    stamp = pl.col("@timestamp") if "@timestamp" in ids.columns else pl.lit(None)
    return (
        ids.select(
            pl.col("indicator.id").cast(pl.String).alias("indicator"),
            pl.col("organization.id").cast(pl.String).alias("org_code"),
            stamp.cast(pl.Datetime("us", "UTC")).fill_null(as_utc(now)).alias("seen"),
        )
        .drop_nulls(["indicator", "org_code"])
        .group_by("indicator", "org_code")
        .agg(first_seen=pl.col("seen").min(), last_seen=pl.col("seen").max(), count=pl.len())
        .sort("indicator", "org_code")  # one lock order for concurrent workers
    )


def record_sightings(
    session: Session, matches: pl.DataFrame, *, now: datetime | None = None
) -> int:
    """Upsert the sightings in ``matches``; return how many (indicator, organisation) pairs."""
    if matches.is_empty():
        return 0
    rows = _frame(matches, now or utcnow()).to_dicts()
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    table = cast(Table, SightingRow.__table__)
    earliest: Any
    latest: Any
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table)
        earliest, latest = func.least, func.greatest
    elif dialect == "sqlite":
        statement = sqlite.insert(table)
        earliest, latest = func.min, func.max
    else:  # pragma: no cover - the store supports these two
        msg = f"sightings need PostgreSQL or SQLite, not {dialect}"
        raise InputError(msg)
    new = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["indicator", "org_code"],
        set_={
            "first_seen": earliest(table.c.first_seen, new.first_seen),
            "last_seen": latest(table.c.last_seen, new.last_seen),
            "count": table.c.count + new.count,
        },
    )
    session.execute(statement, rows)
    return len(rows)


def list_sightings(
    session: Session, indicator: str | None = None, *, since: datetime | None = None
) -> list[Sighting]:
    """Return sightings (of one indicator ``type:value``), last seen at or after ``since``."""
    query = select(SightingRow)
    if indicator is not None:
        query = query.where(SightingRow.indicator == indicator)
    if since is not None:
        query = query.where(SightingRow.last_seen >= as_utc(since))
    rows = session.scalars(query.order_by(SightingRow.indicator, SightingRow.org_code))
    return [Sighting(r.indicator, r.org_code, r.first_seen, r.last_seen, r.count) for r in rows]


def organisations_hit(session: Session, *, since: datetime) -> dict[str, int]:
    """Return, per indicator seen since ``since``, how many organisations it hit."""
    rows = session.execute(
        select(SightingRow.indicator, func.count(SightingRow.org_code))
        .where(SightingRow.last_seen >= as_utc(since))
        .group_by(SightingRow.indicator)
    )
    return {str(indicator): int(count) for indicator, count in rows}


def stix_id(kind: str, name: str) -> str:
    """Return the deterministic STIX id of a Bastion object (an indicator, an organisation)."""
    return f"{kind}--{uuid.uuid5(_NAMESPACE, name)}"


def sightings_bundle(sightings: list[Sighting], *, now: datetime | None = None) -> dict[str, Any]:
    """Return sightings as a STIX 2.1 bundle: a ``sighting`` each and the organisations' identities."""
    moment = as_utc(now or utcnow()).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def stamp(value: datetime) -> str:
        return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    identities = {
        s.org: {
            "type": "identity", "spec_version": "2.1", "id": stix_id("identity", f"org:{s.org}"),
            "created": moment, "modified": moment, "name": s.org, "identity_class": "organization",
        }
        for s in sightings
    }  # fmt: skip
    objects: list[dict[str, Any]] = list(identities.values())
    for s in sightings:
        objects.append({
            "type": "sighting", "spec_version": "2.1",
            "id": stix_id("sighting", f"{s.indicator}@{s.org}"),
            "created": moment, "modified": moment,
            "sighting_of_ref": stix_id("indicator", s.indicator),
            "where_sighted_refs": [identities[s.org]["id"]],
            "first_seen": stamp(s.first_seen), "last_seen": stamp(s.last_seen),
            "count": min(s.count, 999_999_999),  # STIX caps count
            "description": f"{s.indicator} seen at {s.org}",
        })  # fmt: skip
    return {"type": "bundle", "id": stix_id("bundle", f"sightings:{moment}"), "objects": objects}
