"""Incidents on a service: opened by hand or automatically, updated, resolved; history kept.

An incident of one organisation's service is that organisation's; a national
incident (``org`` None) is what correlation opens when many organisations'
monitors of one shared dependency fail together, and lists those organisations.
Each change is audited with its actor (the scheduler's for automatic ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.audit import Actor
from bastion.core.choices import Choice
from bastion.core.errors import ConflictError, NotFoundError
from bastion.core.scope import Scope
from bastion.core.timeutil import utcnow
from bastion.store.membership import one_of
from bastion.uptime.models import IncidentRow, IncidentUpdateRow


class IncidentStatus(Choice, what="incident status", field="status"):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class Impact(Choice, what="impact", field="impact"):
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Update:
    at: datetime
    status: str
    text: str
    author: str


@dataclass(frozen=True)
class Incident:
    id: int
    org: str | None
    service: str
    title: str
    status: IncidentStatus
    impact: Impact
    public: bool
    automatic: bool
    opened_at: datetime
    resolved_at: datetime | None
    organisations: tuple[str, ...]
    updates: tuple[Update, ...] = ()


def _incident(row: IncidentRow, updates: Sequence[IncidentUpdateRow] = ()) -> Incident:
    return Incident(
        row.id, row.org_code, row.service, row.title, IncidentStatus(row.status),
        Impact(row.impact), row.public, row.automatic, row.opened_at, row.resolved_at,
        tuple(row.organisations), tuple(Update(u.at, u.status, u.text, u.author) for u in updates),
    )  # fmt: skip


def _sees(scope: Scope, row: IncidentRow) -> bool:
    return scope.allows(row.org_code) or any(scope.allows(c) for c in row.organisations)


def open_incident(
    session: Session,
    org: str | None,
    service: str,
    title: str,
    *,
    actor: Actor,
    scope: Scope,
    impact: str = "major",
    public: bool = True,
    automatic: bool = False,
    organisations: Sequence[str] = (),
    text: str = "",
    now: datetime | None = None,
) -> Incident:
    """Open an incident (national when ``org`` is None: national scope only); audited."""
    if not scope.allows(org):
        msg = f"no organisation with code {org!r}"
        raise NotFoundError(msg)
    moment = now or utcnow()
    row = IncidentRow(
        org_code=org, service=service.strip()[:120], title=title.strip()[:300] or service,
        status=IncidentStatus.INVESTIGATING.value, impact=Impact.parse(impact).value,
        public=public, automatic=automatic, opened_at=moment,
        organisations=sorted(set(organisations) | ({org} if org else set())),
    )  # fmt: skip
    session.add(row)
    session.flush()
    session.add(IncidentUpdateRow(incident_id=row.id, at=moment, status=row.status,
                                  text=text or row.title, author=str(actor)[:120]))  # fmt: skip
    audit.record(session, actor, "uptime.incident.open", f"incident:{row.id}", org=org,
                 after={"title": row.title, "service": row.service, "impact": row.impact})  # fmt: skip
    session.flush()
    return get_incident(session, row.id, Scope.everything())


def update_incident(
    session: Session,
    incident_id: int,
    status: str,
    text: str,
    *,
    actor: Actor,
    scope: Scope,
    now: datetime | None = None,
) -> Incident:
    """Post an update (a resolved one closes the incident); audited."""
    row = session.get(IncidentRow, incident_id)
    if row is None or not _sees(scope, row) or not scope.allows(row.org_code):
        msg = f"no incident {incident_id}"
        raise NotFoundError(msg)
    if row.status == IncidentStatus.RESOLVED.value:
        msg = f"incident {incident_id} is resolved already"
        raise ConflictError(msg)
    moment = now or utcnow()
    before = row.status
    row.status = IncidentStatus.parse(status).value
    if row.status == IncidentStatus.RESOLVED.value:
        row.resolved_at = moment
    session.add(IncidentUpdateRow(incident_id=row.id, at=moment, status=row.status,
                                  text=text.strip()[:5000] or row.status, author=str(actor)[:120]))  # fmt: skip
    audit.record(session, actor, "uptime.incident.update", f"incident:{row.id}", org=row.org_code,
                 before={"status": before}, after={"status": row.status})  # fmt: skip
    session.flush()
    return get_incident(session, row.id, Scope.everything())


def get_incident(session: Session, incident_id: int, scope: Scope) -> Incident:
    row = session.get(IncidentRow, incident_id)
    if row is None or not _sees(scope, row):
        msg = f"no incident {incident_id}"
        raise NotFoundError(msg)
    updates = session.scalars(
        select(IncidentUpdateRow)
        .where(IncidentUpdateRow.incident_id == row.id)
        .order_by(IncidentUpdateRow.at, IncidentUpdateRow.id)
    ).all()
    return _incident(row, updates)


def list_incidents(
    session: Session,
    scope: Scope,
    *,
    open_only: bool = False,
    services: Sequence[str] | None = None,
    public_only: bool = False,
    since: datetime | None = None,
    limit: int = 200,
) -> list[Incident]:
    """Return incidents ``scope`` sees (a member sees national ones listing it), newest first."""
    query = select(IncidentRow).order_by(IncidentRow.opened_at.desc()).limit(limit)
    if scope.codes is not None:
        # National incidents are few: those listing one of the caller's members are kept below.
        query = query.where(
            or_(one_of(IncidentRow.org_code, scope.codes), IncidentRow.org_code.is_(None))
        )
    if open_only:
        query = query.where(IncidentRow.status != IncidentStatus.RESOLVED.value)
    if services is not None:
        query = query.where(IncidentRow.service.in_(list(services)))
    if public_only:
        query = query.where(IncidentRow.public.is_(True))
    if since is not None:
        query = query.where(IncidentRow.opened_at >= since)
    rows = [r for r in session.scalars(query) if _sees(scope, r)]
    return [_incident(r) for r in rows]


def open_automatic(
    session: Session, org: str | None, service: str, title: str, text: str, *,
    organisations: Sequence[str] = (), now: datetime | None = None,
) -> Incident | None:  # fmt: skip
    """Open an automatic incident unless one is open on the same service already."""
    found = session.scalar(
        select(IncidentRow.id).where(
            IncidentRow.service == service,
            IncidentRow.org_code.is_(None) if org is None else IncidentRow.org_code == org,
            IncidentRow.status != IncidentStatus.RESOLVED.value,
        )
    )
    if found is not None:
        return None
    return open_incident(
        session, org, service, title, actor=Actor.scheduler("uptime"), scope=Scope.everything(),
        automatic=True, organisations=organisations, text=text, now=now,
    )  # fmt: skip


def resolve_automatic(
    session: Session, org: str | None, service: str, text: str, now: datetime | None = None
) -> list[int]:
    """Resolve the open automatic incidents of a service that has recovered."""
    rows = session.scalars(
        select(IncidentRow).where(
            IncidentRow.service == service,
            IncidentRow.org_code.is_(None) if org is None else IncidentRow.org_code == org,
            IncidentRow.automatic.is_(True),
            IncidentRow.status != IncidentStatus.RESOLVED.value,
        )
    ).all()
    for row in rows:
        update_incident(session, row.id, "resolved", text, actor=Actor.scheduler("uptime"),
                        scope=Scope.everything(), now=now)  # fmt: skip
    return [r.id for r in rows]
