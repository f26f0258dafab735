"""Import a published DSPT snapshot (statuses and publication dates) as historical returns.

The snapshot files NHS England published (``nhsx/open-cyber``) list, per trust or
ICB, the status of its return (``22/23 Standards Met``), the date it was published
and where it sits (region, ICB). Each row becomes a published return of the
shipped DSPT-style framework for that period, with the status as published and no
answers (the snapshot has none). Importing the same period again replaces them.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from bastion import audit
from bastion.assure.catalogue import get_framework, save_framework
from bastion.assure.framework import Framework
from bastion.assure.library import shipped_library
from bastion.assure.models import ReturnRow
from bastion.assure.views import period_deadline
from bastion.audit import Actor
from bastion.core.errors import InputError, NotFoundError
from bastion.core.timeutil import utcnow

STATUS = re.compile(r"^(\d{2})/(\d{2}) (.+)$")
NOT_PUBLISHED = "Not Published"
SECTORS = {"nhs trust": "trust", "ccg / integrated care board (icb)": "icb"}


@dataclass(frozen=True)
class SnapshotReport:
    """What an import did: returns per period and status, rows it could not read."""

    file: str
    returns: int
    by_status: dict[str, int]
    periods: tuple[str, ...]
    skipped: list[str] = field(default_factory=list)


def dspt_framework(session: Session, actor: Actor) -> tuple[Framework, bool]:
    """Return the stored DSPT-style framework (storing the shipped one if none is), and if stored now."""
    try:
        return get_framework(session, "dspt"), False
    except NotFoundError:
        save_framework(session, shipped_library("dspt"), actor)
        return get_framework(session, "dspt"), True


def _row(record: dict[str, str], line: int, framework: Framework, now: datetime) -> dict[str, Any]:
    code = (record.get("Code") or "").strip().upper()
    raw = (record.get("Status") or "").strip()
    found = STATUS.match(raw)
    if not code or (found is None and raw != NOT_PUBLISHED):
        msg = f"line {line}: needs a Code and a Status such as '22/23 Standards Met'"
        raise InputError(msg)
    if found is None:  # listed, but no return published: the period is the file's
        return {**_missing(code, framework, now), **_placement(record, framework)}
    period = f"20{found.group(1)}-{found.group(2)}"
    status = found.group(3).strip()
    if status not in framework.return_statuses:
        msg = f"line {line}: status {status!r} is not one of {', '.join(framework.return_statuses)}"
        raise InputError(msg)
    try:
        day = datetime.strptime(record.get("Date Of Publication", "").strip(), "%d/%m/%Y")
    except ValueError:
        msg = f"line {line}: Date Of Publication is DD/MM/YYYY"
        raise InputError(msg) from None
    return {
        **_missing(code, framework, now), **_placement(record, framework), "period": period,
        "state": "published", "version": 1, "status": status,
        "published_at": day.replace(tzinfo=UTC), "deadline": period_deadline(period),
        "published_late": day.date() > period_deadline(period),
    }  # fmt: skip


def _placement(record: dict[str, str], framework: Framework) -> dict[str, str]:
    sector = (record.get("Primary Sector") or "").strip().lower()
    icb = (
        record.get("Integrated Care Board (where available, from ODS)")
        or record.get("ICB23NM")
        or ""
    )
    return {
        "org_type": SECTORS.get(sector, "other"), "region": (record.get("National Grouping") or "").strip(),
        "icb": icb.strip().title()[:120], "profile": framework.profile_of(SECTORS.get(sector, "other")),
    }  # fmt: skip


def _missing(code: str, framework: Framework, now: datetime) -> dict[str, Any]:
    """Return the columns of a listed return that was not published (the period comes later)."""
    return {
        "org_code": code, "period": None, "framework": framework.ref, "state": "draft",
        "marks": "." * len(framework.statements), "comments": {}, "evidence": {}, "owners": {},
        "facts": {}, "version": 0, "status": None, "outcome_marks": "", "published_at": None,
        "deadline": None, "source": "snapshot", "drift": [], "drift_count": 0, "published_late": False,
        "created_at": now, "updated_at": now,
    }  # fmt: skip


def import_snapshot(session: Session, path: Path, *, actor: Actor) -> SnapshotReport:
    """Import the snapshot CSV at ``path`` as published historical returns; one audit event."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        msg = f"cannot read snapshot {path}: {exc.strerror}"
        raise InputError(msg) from None
    framework, stored = dspt_framework(session, actor)
    now = utcnow()
    rows, skipped = [], []
    for line, record in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            rows.append(_row(record, line, framework, now))
        except InputError as exc:
            skipped.append(str(exc))
    published = Counter(r["period"] for r in rows if r["period"])
    if not published:
        msg = f"{path}: no published snapshot rows read ({skipped[0] if skipped else 'empty file'})"
        raise InputError(msg)
    period = published.most_common(1)[0][0]
    for row in rows:
        if row["period"] is None:
            row["period"], row["deadline"] = period, period_deadline(period)
    codes = sorted({r["org_code"] for r in rows})
    periods = tuple(sorted({r["period"] for r in rows}))
    session.execute(
        delete(ReturnRow).where(
            ReturnRow.org_code.in_(codes),
            ReturnRow.period.in_(periods),
            ReturnRow.framework == framework.ref,
        )
    )
    session.execute(insert(ReturnRow), rows)
    counts = Counter(r["status"] or NOT_PUBLISHED for r in rows)
    audit.record(session, actor, "assure.returns.import", f"snapshot:{path.name}",
                 after={"returns": len(rows), "periods": list(periods), "by_status": dict(counts),
                        "skipped": len(skipped), "framework_stored": stored})  # fmt: skip
    return SnapshotReport(path.name, len(rows), dict(counts), periods, skipped)
