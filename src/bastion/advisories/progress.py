"""The national view: per alert, how the response is going; per organisation, what is open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bastion.advisories.alerts import alert_row, current_version
from bastion.advisories.models import AlertRow, ExposureRow, ResponseRow
from bastion.advisories.responses import overdue_reasons
from bastion.core.timeutil import as_utc, utcnow
from bastion.core.types import org_code


@dataclass(frozen=True)
class AlertProgress:
    alert: str
    title: str
    severity: str
    version: int
    published_at: datetime | None
    affected: int
    acknowledged: int
    acknowledged_in_time: int
    applicable: int
    not_applicable: int
    under_investigation: int
    remediated: int
    closed: int
    overdue: int


def alert_progress(session: Session, ref: str, *, now: datetime | None = None) -> AlertProgress:
    """Count, for one alert, the organisations at each step of their response."""
    moment = now or utcnow()
    alert = alert_row(session, ref)
    content = current_version(session, alert)
    rows = list(session.scalars(select(ResponseRow).where(ResponseRow.alert_id == alert.id)))
    in_time = sum(
        1
        for r in rows
        if r.acknowledged_at is not None
        and (r.ack_due is None or as_utc(r.acknowledged_at) <= as_utc(r.ack_due))
    )
    return AlertProgress(
        alert=alert.ref,
        title=content.title,
        severity=content.severity,
        version=alert.version,
        published_at=alert.published_at,
        affected=len(rows),
        acknowledged=sum(r.acknowledged_at is not None for r in rows),
        acknowledged_in_time=in_time,
        applicable=sum(r.applicability == "applicable" for r in rows),
        not_applicable=sum(r.applicability == "not_applicable" for r in rows),
        under_investigation=sum(r.applicability == "under_investigation" for r in rows),
        remediated=sum(r.remediated_at is not None for r in rows),
        closed=sum(r.status == "closed" for r in rows),
        overdue=sum(bool(overdue_reasons(r, moment)) for r in rows),
    )


def national_view(session: Session, *, now: datetime | None = None) -> list[AlertProgress]:
    """Return the progress of every published alert, newest first."""
    refs = session.scalars(
        select(AlertRow.ref).where(AlertRow.status == "published").order_by(AlertRow.id.desc())
    )
    return [alert_progress(session, ref, now=now) for ref in refs]


@dataclass(frozen=True)
class OrganisationView:
    organisation: str
    open_alerts: tuple[str, ...]
    overdue_alerts: tuple[str, ...]
    exposures: int
    exposed_vulnerabilities: int
    not_affected: int


def organisation_view(
    session: Session, code: str, *, now: datetime | None = None
) -> OrganisationView:
    """Return one organisation's open alerts and exposures."""
    moment = now or utcnow()
    org = org_code(code)
    open_rows = session.execute(
        select(ResponseRow, AlertRow.ref)
        .join(AlertRow, AlertRow.id == ResponseRow.alert_id)
        .where(ResponseRow.org_code == org, ResponseRow.status == "open")
        .order_by(AlertRow.id)
    ).all()
    counts = dict(
        session.execute(
            select(ExposureRow.status, func.count())
            .where(ExposureRow.org_code == org)
            .group_by(ExposureRow.status)
        ).all()
    )
    distinct = session.scalar(
        select(func.count(func.distinct(ExposureRow.vuln_id))).where(
            ExposureRow.org_code == org, ExposureRow.status == "affected"
        )
    )
    return OrganisationView(
        organisation=org,
        open_alerts=tuple(ref for _, ref in open_rows),
        overdue_alerts=tuple(ref for row, ref in open_rows if overdue_reasons(row, moment)),
        exposures=int(counts.get("affected", 0)),
        exposed_vulnerabilities=int(distinct or 0),
        not_affected=int(counts.get("not_affected", 0)) + int(counts.get("fixed", 0)),
    )
