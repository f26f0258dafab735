"""Files and events on a case: attachments stored by content hash, evidence pulled by a hunt."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from bastion.audit import Actor
from bastion.cases.models import AttachmentRow, TimelineRow
from bastion.cases.read import case_row
from bastion.cases.service import _record, _timeline
from bastion.core.errors import InputError, LimitExceeded, PermissionDenied
from bastion.core.scope import Scope
from bastion.core.timeutil import as_utc, utcnow


def attachment_path(root: Path, sha256: str) -> Path:
    """Return where an attachment's bytes live: ``<root>/<first two hex digits>/<sha256>``."""
    return root / sha256[:2] / sha256


def add_attachment(
    session: Session,
    case_id: int,
    name: str,
    data: bytes,
    *,
    actor: Actor,
    scope: Scope,
    root: Path,
    max_bytes: int,
    media_type: str = "application/octet-stream",
) -> int:
    """Store a file under its SHA-256 (once, however often attached) and attach it; audited."""
    row = case_row(session, case_id, scope)
    if len(data) > max_bytes:
        msg = f"attachment {name!r} is {len(data)} bytes; the limit is {max_bytes}"
        raise LimitExceeded(msg)
    clean = Path(name.replace("\\", "/")).name.strip()
    if not clean or any(ord(c) < 32 for c in clean):
        msg = f"invalid attachment name {name!r}"
        raise InputError(msg)
    digest = hashlib.sha256(data).hexdigest()
    path = attachment_path(root, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(path)
    item = AttachmentRow(
        case_id=row.id, name=clean[:255], sha256=digest, size=len(data),
        media_type=media_type[:100], added_by=str(actor)[:120], added_at=utcnow(),
    )  # fmt: skip
    session.add(item)
    session.flush()
    _timeline(session, row, actor, "attachment", f"attached {item.name}", sha256=digest)
    _record(session, actor, "case.attach", row, after={"name": item.name, "sha256": digest})
    return item.id


def add_evidence(
    session: Session,
    case_id: int,
    archive: Path,
    query: str,
    *,
    actor: Actor,
    scope: Scope,
    limit: int = 100,
) -> int:
    """Run a hunt over the event archive and put each event it finds on the timeline; audited.

    A hunt reads every organisation's events, so only a national caller may run one.
    """
    from bastion.boundary.hunting import hunt

    row = case_row(session, case_id, scope)
    if not scope.national:
        msg = "pulling evidence from the archive takes a national role (a hunt reads every organisation)"
        raise PermissionDenied(msg)
    rows = hunt(archive, query, limit=limit).to_dicts()
    for event in rows:
        stamp = event.get("@timestamp")
        session.add(
            TimelineRow(
                case_id=row.id, at=as_utc(stamp) if isinstance(stamp, datetime) else utcnow(),
                kind="evidence", actor=str(actor)[:120], text=query[:2000],
                data={k: v if isinstance(v, int | float | str | bool) or v is None else str(v)
                      for k, v in event.items()},
            )
        )  # fmt: skip
    session.flush()
    _record(session, actor, "case.evidence", row, after={"query": query, "events": len(rows)})
    return len(rows)
