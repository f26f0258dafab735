"""The one door that changes uptime's configuration: monitors, maintenance, SLOs, pages.

Every function takes the caller's ``Scope`` (an object of an organisation outside
it is not found) and each change records one audit event with its ``Actor``.
Whether the caller's role may change things at an organisation is the door's
(CLI, API, console) business, asked after visibility. Incidents are in
``bastion.uptime.incidents``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.audit import Actor
from bastion.core.errors import ConflictError, InputError, NotFoundError
from bastion.core.scope import Scope
from bastion.core.timeutil import as_utc, utcnow
from bastion.store.membership import one_of
from bastion.uptime.domain import Maintenance, Monitor, MonitorKind, Repeat, maintenance
from bastion.uptime.models import MaintenanceRow, MonitorRow, SloRow, StatusPageRow
from bastion.uptime.slo import Slo

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def to_monitor(row: MonitorRow) -> Monitor:
    return Monitor(
        name=row.name, kind=MonitorKind(row.kind), target=row.target, org=row.org_code,
        service=row.service, interval_s=row.interval_s, timeout_s=row.timeout_s,
        retries=row.retries, quorum=row.quorum, tags=tuple(row.tags), options=dict(row.options),
        public=row.public, paused=row.paused, id=row.id, push_token=row.push_token,
    )  # fmt: skip


def _state(row: MonitorRow) -> dict[str, Any]:
    return {"name": row.name, "target": row.target, "paused": row.paused, "public": row.public}


def _visible(scope: Scope, org: str, what: str) -> None:
    if not scope.allows(org):
        msg = f"no {what}"
        raise NotFoundError(msg)


def add_monitor(session: Session, item: Monitor, *, actor: Actor, scope: Scope) -> Monitor:
    """Store a new monitor of an organisation in ``scope``; audited."""
    _visible(scope, item.org, f"organisation with code {item.org!r}")
    clash = session.scalar(
        select(MonitorRow.id).where(MonitorRow.org_code == item.org, MonitorRow.name == item.name)
    )
    if clash is not None:
        msg = f"{item.org} already has a monitor named {item.name!r}"
        raise ConflictError(msg)
    row = MonitorRow(
        name=item.name, kind=item.kind.value, target=item.target, org_code=item.org,
        service=item.service, tags=list(item.tags), interval_s=item.interval_s,
        timeout_s=item.timeout_s, retries=item.retries, quorum=item.quorum,
        options=dict(item.options), public=item.public, paused=False,
        push_token=secrets.token_urlsafe(24), state="unknown",
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "uptime.monitor.add", f"monitor:{row.id}", org=row.org_code,
        after={**_state(row), "kind": row.kind, "service": row.service},
    )  # fmt: skip
    return to_monitor(row)


def list_monitors(
    session: Session, scope: Scope, *, service: str | None = None, org: str | None = None
) -> list[Monitor]:
    """Return the monitors ``scope`` sees, by organisation, service and name."""
    query = select(MonitorRow).order_by(MonitorRow.org_code, MonitorRow.service, MonitorRow.name)
    if scope.codes is not None:
        query = query.where(one_of(MonitorRow.org_code, scope.codes))
    if service:
        query = query.where(MonitorRow.service == service)
    if org:
        query = query.where(MonitorRow.org_code == org.strip().upper())
    return [to_monitor(r) for r in session.scalars(query)]


def _row(session: Session, ref: int | str, scope: Scope) -> MonitorRow:
    if isinstance(ref, int) or str(ref).isdigit():
        row = session.get(MonitorRow, int(ref))
        rows = [row] if row is not None else []
    else:
        rows = list(session.scalars(select(MonitorRow).where(MonitorRow.name == ref)))
    rows = [r for r in rows if scope.allows(r.org_code)]
    if len(rows) != 1:
        msg = f"no monitor {ref!r}" if not rows else f"{len(rows)} monitors are named {ref!r}"
        raise NotFoundError(msg) if not rows else InputError(msg + "; use its id")
    return rows[0]


def get_monitor(session: Session, ref: int | str, scope: Scope) -> Monitor:
    """Return a monitor by id or name (404 outside ``scope``)."""
    return to_monitor(_row(session, ref, scope))


def monitor_state(session: Session, ref: int | str, scope: Scope) -> tuple[str, datetime | None]:
    row = _row(session, ref, scope)
    return row.state, row.state_since


def set_paused(
    session: Session, ref: int | str, paused: bool, *, actor: Actor, scope: Scope
) -> Monitor:
    """Pause a monitor (no probes, no budget spent) or resume it; audited."""
    row = _row(session, ref, scope)
    before = _state(row)
    row.paused = paused
    row.updated_at = utcnow()
    audit.record(
        session, actor, "uptime.monitor.pause" if paused else "uptime.monitor.resume",
        f"monitor:{row.id}", org=row.org_code, before=before, after=_state(row),
    )  # fmt: skip
    session.flush()
    return to_monitor(row)


def add_maintenance(
    session: Session, window: Maintenance, *, actor: Actor, scope: Scope
) -> Maintenance:
    """Schedule a maintenance window of a monitor or service in ``scope``; audited."""
    org = window.org
    if window.monitor_id is not None:
        org = _row(session, window.monitor_id, scope).org_code
    _visible(scope, org, f"organisation with code {org!r}")
    row = MaintenanceRow(
        org_code=org, monitor_id=window.monitor_id, service=window.service, title=window.title,
        starts_at=as_utc(window.starts_at), minutes=int(window.duration.total_seconds() // 60),
        repeat=window.repeat.value,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "uptime.maintenance.add", f"maintenance:{row.id}", org=org,
        after={"title": row.title, "starts_at": row.starts_at.isoformat(), "minutes": row.minutes,
               "repeat": row.repeat, "monitor": row.monitor_id, "service": row.service},
    )  # fmt: skip
    return replace(window, org=org, id=row.id)


def list_maintenance(session: Session, scope: Scope) -> list[Maintenance]:
    query = select(MaintenanceRow).order_by(MaintenanceRow.starts_at)
    if scope.codes is not None:
        query = query.where(one_of(MaintenanceRow.org_code, scope.codes))
    return [
        replace(
            maintenance(
                r.starts_at, r.minutes, repeat=r.repeat, title=r.title, monitor_id=r.monitor_id,
                service=r.service, org=r.org_code,
            ),
            id=r.id,
        )
        for r in session.scalars(query)
    ]  # fmt: skip


def windows_by_monitor(
    session: Session, monitors: Sequence[Monitor]
) -> list[tuple[Maintenance, list[int]]]:
    """Return each maintenance window with the ids of the monitors it covers."""
    return [
        (w, [m.id for m in monitors if w.applies_to(m)])
        for w in list_maintenance(session, Scope.everything())
    ]


def _slo(row: SloRow) -> Slo:
    return Slo(row.org_code, row.service, row.target, row.period_days, row.name, row.id)


def add_slo(session: Session, slo: Slo, *, actor: Actor, scope: Scope) -> Slo:
    """Set an availability target for a service of an organisation in ``scope``; audited."""
    org = slo.org.strip().upper()
    _visible(scope, org, f"organisation with code {org!r}")
    if not 0.5 <= slo.target < 1.0:
        msg = f"an SLO target is a share of at least 0.5 and under 1 (0.9999); not {slo.target}"
        raise InputError(msg)
    if not 1 <= slo.period_days <= 366:
        msg = "an SLO's period is 1-366 days"
        raise InputError(msg)
    name = slo.name.strip() or f"{slo.service} {slo.target * 100:g}%"
    row = SloRow(org_code=org, service=slo.service.strip(), name=name[:120], target=slo.target,
                 period_days=slo.period_days)  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "uptime.slo.add", f"slo:{row.id}", org=org,
        after={"service": row.service, "target": row.target, "period_days": row.period_days},
    )  # fmt: skip
    return _slo(row)


def list_slos(session: Session, scope: Scope) -> list[Slo]:
    query = select(SloRow).order_by(SloRow.org_code, SloRow.service, SloRow.id)
    if scope.codes is not None:
        query = query.where(one_of(SloRow.org_code, scope.codes))
    return [_slo(r) for r in session.scalars(query)]


def get_slo(session: Session, slo_id: int, scope: Scope) -> Slo:
    return _slo(scope.visible(session.get(SloRow, slo_id), f"no SLO {slo_id}"))


def add_status_page(
    session: Session,
    slug: str,
    title: str,
    org: str,
    services: Sequence[str],
    *,
    actor: Actor,
    scope: Scope,
) -> str:
    """Publish a status page of an organisation's services (only their public monitors)."""
    org = org.strip().upper()
    _visible(scope, org, f"organisation with code {org!r}")
    if not _SLUG.match(slug):
        msg = "a status page's slug is 1-64 lower-case letters, digits and hyphens"
        raise InputError(msg)
    if session.scalar(select(StatusPageRow.id).where(StatusPageRow.slug == slug)) is not None:
        msg = f"a status page {slug!r} exists already"
        raise ConflictError(msg)
    row = StatusPageRow(slug=slug, title=title.strip()[:200] or slug, org_code=org,
                        services=sorted({s.strip() for s in services if s.strip()}))  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, actor, "uptime.page.add", f"status-page:{slug}", org=org,
                 after={"title": row.title, "services": row.services})  # fmt: skip
    return slug


def record_push(session: Session, token: str, now: datetime | None = None) -> Monitor:
    """Note a heartbeat of a push monitor (a measurement, like a probe: not audited)."""
    row = session.scalar(select(MonitorRow).where(MonitorRow.push_token == token))
    if row is None or row.kind != MonitorKind.PUSH.value:
        msg = "no push monitor with that token"
        raise NotFoundError(msg)
    row.last_push_at = now or utcnow()
    session.flush()
    return to_monitor(row)


REPEATS = tuple(r.value for r in Repeat)
