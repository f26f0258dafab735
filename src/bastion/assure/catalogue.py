"""The stored framework libraries: import one (validated), list them, get one by ``key@version``.

A library is stored as its validated document; reading it back rebuilds the
``Framework`` once per process and stored version (the cache is keyed by the
row's id and import time, so a re-import is seen).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from bastion import audit
from bastion.assure.framework import Framework
from bastion.assure.library import SHIPPED, framework_from, read_library, shipped_library
from bastion.assure.models import FrameworkRow
from bastion.audit import Actor
from bastion.core.errors import NotFoundError
from bastion.core.timeutil import utcnow

_CACHE: dict[tuple[int, datetime], Framework] = {}


@dataclass(frozen=True)
class FrameworkSummary:
    """A stored framework as ``frameworks list`` shows it."""

    ref: str
    key: str
    version: str
    title: str
    kind: str
    outcomes: int
    statements: int
    imported_at: datetime


def _summary(row: FrameworkRow) -> FrameworkSummary:
    return FrameworkSummary(
        f"{row.key}@{row.version}", row.key, row.version, row.title, row.kind, row.outcomes,
        row.statements, row.imported_at,
    )  # fmt: skip


def save_framework(
    session: Session, framework: Framework, actor: Actor
) -> tuple[FrameworkSummary, dict[str, Any] | None]:
    """Store ``framework`` without recording it: for a change that records it as its part."""
    row = session.scalars(
        select(FrameworkRow).where(
            FrameworkRow.key == framework.key, FrameworkRow.version == framework.version
        )
    ).one_or_none()
    before = None if row is None else {"outcomes": row.outcomes, "statements": row.statements}
    if row is None:
        row = FrameworkRow(key=framework.key, version=framework.version)
        session.add(row)
    row.title, row.kind = framework.title, framework.kind
    row.outcomes, row.statements = len(framework.outcomes), len(framework.statements)
    row.document, row.imported_at, row.imported_by = framework.source, utcnow(), str(actor)[:120]
    session.flush()
    return _summary(row), before


def store_framework(session: Session, framework: Framework, *, actor: Actor) -> FrameworkSummary:
    """Store ``framework`` (replacing the same key and version); audited."""
    summary, before = save_framework(session, framework, actor)
    audit.record(
        session, actor, "assure.framework.import", f"framework:{framework.ref}", before=before,
        after={"outcomes": summary.outcomes, "statements": summary.statements, "title": summary.title},
    )  # fmt: skip
    return summary


def import_framework(
    session: Session, path: Path, *, actor: Actor, version: str | None = None
) -> FrameworkSummary:
    """Read, validate and store the library at ``path`` (or a shipped one by name); audited."""
    shipped = str(path) in SHIPPED and not path.exists()
    framework = shipped_library(str(path)) if shipped else read_library(path, version)
    return store_framework(session, framework, actor=actor)


def list_frameworks(session: Session) -> list[FrameworkSummary]:
    """Return every stored framework, by key and version (their documents left unread)."""
    rows = session.scalars(
        select(FrameworkRow)
        .options(defer(FrameworkRow.document))
        .order_by(FrameworkRow.key, FrameworkRow.version)
    )
    return [_summary(r) for r in rows]


def get_framework(session: Session, ref: str) -> Framework:
    """Return the stored framework ``key@version`` (or the latest version of ``key``)."""
    key, _, version = ref.partition("@")
    query = select(FrameworkRow.id, FrameworkRow.imported_at, FrameworkRow.version).where(
        FrameworkRow.key == key
    )
    if version:
        query = query.where(FrameworkRow.version == version)
    found = session.execute(query.order_by(FrameworkRow.version.desc())).first()
    if found is None:
        known = ", ".join(s.ref for s in list_frameworks(session)) or "none yet"
        msg = f"no framework {ref!r} is stored (stored: {known}); `bastion assure frameworks import FILE`"
        raise NotFoundError(msg)
    row_id, imported_at, stored_version = found
    cached = _CACHE.get((row_id, imported_at))
    if cached is None:  # read the document only when this version is not built yet
        document = session.scalar(select(FrameworkRow.document).where(FrameworkRow.id == row_id))
        cached = framework_from(document or {}, f"framework {key}@{stored_version}")
        _CACHE[(row_id, imported_at)] = cached
    return cached
