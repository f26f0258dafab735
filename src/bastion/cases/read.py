"""Reading cases within a scope: the list, one case's page, and the rows behind them.

Every reader passes the caller's ``Scope``: a case belongs to one or more
organisations and is visible when one of them is in scope. A case outside it
answers exactly as one that does not exist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bastion.cases import alertlinks
from bastion.cases.domain import (
    Attachment,
    Case,
    CaseSeverity,
    CaseStatus,
    Clock,
    ClockState,
    Observable,
    ObservableKind,
    Pap,
    PatientImpact,
    Task,
    TaskStatus,
    TimelineEntry,
    clock_state,
    indicator_id,
    intel_link,
)
from bastion.cases.models import (
    AttachmentRow,
    CaseAdvisoryRow,
    CaseAlertRow,
    CaseOrgRow,
    CaseRow,
    ObservableRow,
    TaskRow,
    TimelineRow,
)
from bastion.core.errors import NotFoundError
from bastion.core.scope import Scope
from bastion.core.timeutil import utcnow
from bastion.core.types import Tlp
from bastion.store.membership import one_of
from bastion.store.paging import contains_text, page_of


@dataclass(frozen=True)
class ClockPolicy:
    """How long each regulatory clock runs from awareness, and when to warn it is nearly up."""

    breach_hours: float = 72.0
    sector_hours: float = 24.0
    warning_hours: float = 12.0


def visible_ids(scope: Scope) -> Select[Any]:
    """Return the ids of the cases ``scope`` may see, as a subquery to filter on."""
    query = select(CaseOrgRow.case_id)
    if scope.codes is not None:
        query = query.where(one_of(CaseOrgRow.org_code, scope.codes))
    return query


def case_row(session: Session, case_id: int, scope: Scope) -> CaseRow:
    """Return case ``case_id``'s row if ``scope`` may see it; else raise NotFoundError."""
    row = session.get(CaseRow, case_id)
    if row is not None and scope.codes is not None:
        visible = session.scalar(
            select(func.count())
            .select_from(CaseOrgRow)
            .where(CaseOrgRow.case_id == case_id, one_of(CaseOrgRow.org_code, scope.codes))
        )
        row = row if visible else None
    if row is None:
        msg = f"no case {case_id}; list them with `bastion cases list`"
        raise NotFoundError(msg)
    return row


def organisations_of(session: Session, case_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Return each case's organisations, sorted."""
    found: dict[int, list[str]] = defaultdict(list)
    query = select(CaseOrgRow.case_id, CaseOrgRow.org_code).where(CaseOrgRow.case_id.in_(case_ids))
    for case_id, code in session.execute(query.order_by(CaseOrgRow.org_code)):
        found[case_id].append(code)
    return {k: tuple(v) for k, v in found.items()}


def clocks(row: CaseRow, policy: ClockPolicy, now: datetime) -> tuple[ClockState, ...]:
    """Return the case's regulatory clocks: the sector's always, the breach one for personal data."""
    found = [
        clock_state(Clock.SECTOR, row.aware_at, policy.sector_hours, row.sector_reported_at, now)
    ]
    if row.personal_data:
        found.insert(
            0,
            clock_state(
                Clock.BREACH, row.aware_at, policy.breach_hours, row.breach_reported_at, now
            ),
        )
    return tuple(found)


def to_case(row: CaseRow, organisations: tuple[str, ...], **lists: Any) -> Case:
    """Return a row as a case: the list fields empty unless given."""
    return Case(
        id=row.id, title=row.title, description=row.description,
        severity=CaseSeverity(row.severity), tlp=Tlp(row.tlp), pap=Pap(row.pap),
        status=CaseStatus(row.status), owner=row.owner, organisations=organisations,
        tags=tuple(row.tags or ()), techniques=tuple(row.techniques or ()),
        patient_impact=PatientImpact(row.patient_impact),
        clinical_systems=tuple(row.clinical_systems or ()), downtime_since=row.downtime_since,
        personal_data=row.personal_data, aware_at=row.aware_at, created_at=row.created_at,
        updated_at=row.updated_at, acknowledged_at=row.acknowledged_at, closed_at=row.closed_at,
        resolution=row.resolution, merged_into=row.merged_into, **lists,
    )  # fmt: skip


def list_cases(
    session: Session,
    scope: Scope,
    *,
    status: str | None = None,
    open_only: bool = False,
    org: str | None = None,
    severity: str | None = None,
    search: str | None = None,
    policy: ClockPolicy | None = None,
    now: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[Case], int]:
    """Return one page of the cases ``scope`` may see, newest first, and how many match."""
    query = select(CaseRow)
    if scope.codes is not None:  # every case has an organisation: national needs no filter
        query = query.where(CaseRow.id.in_(visible_ids(scope)))
    if status:
        query = query.where(CaseRow.status == status)
    if open_only:
        query = query.where(CaseRow.status != CaseStatus.CLOSED.value)
    if org:
        of_org = select(CaseOrgRow.case_id).where(CaseOrgRow.org_code == org.strip().upper())
        query = query.where(CaseRow.id.in_(of_org))
    if severity:
        query = query.where(CaseRow.severity == severity)
    if search:
        query = query.where(contains_text(search, CaseRow.title, CaseRow.description))
    rows, total = page_of(session, query, CaseRow.id.desc(), limit=limit, offset=offset)
    orgs = organisations_of(session, [r.id for r in rows])
    moment = now or utcnow()
    return [
        to_case(r, orgs.get(r.id, ()), clocks=clocks(r, policy or ClockPolicy(), moment))
        for r in rows
    ], total


def get_case(
    session: Session,
    case_id: int,
    scope: Scope,
    *,
    policy: ClockPolicy | None = None,
    now: datetime | None = None,
) -> Case:
    """Return one case with its alerts, observables, tasks, timeline, attachments and clocks."""
    row = case_row(session, case_id, scope)
    codes = scope.codes
    where = {"case_id": row.id}
    alert_ids = tuple(
        session.scalars(select(CaseAlertRow.alert_id).filter_by(**where).order_by(CaseAlertRow.id))
    )
    observables = tuple(
        Observable(
            id=o.id,
            kind=ObservableKind(o.kind),
            value=o.value,
            tlp=Tlp(o.tlp),
            note=o.note,
            intel=intel_link(ObservableKind(o.kind), o.value),
            sightings=_sightings(session, ObservableKind(o.kind), o.value, codes),
        )
        for o in session.scalars(
            select(ObservableRow).filter_by(**where).order_by(ObservableRow.id)
        )
    )
    tasks = tuple(
        Task(t.id, t.title, TaskStatus(t.status), t.assignee)
        for t in session.scalars(select(TaskRow).filter_by(**where).order_by(TaskRow.id))
    )
    timeline = tuple(
        TimelineEntry(e.id, e.at, e.kind, e.actor, e.text, e.data)
        for e in session.scalars(
            select(TimelineRow).filter_by(**where).order_by(TimelineRow.at, TimelineRow.id)
        )
    )
    attachments = tuple(
        Attachment(a.id, a.name, a.sha256, a.size, a.media_type, a.added_by, a.added_at)
        for a in session.scalars(
            select(AttachmentRow).filter_by(**where).order_by(AttachmentRow.id)
        )
    )
    advisories = tuple(
        session.scalars(
            select(CaseAdvisoryRow.ref).filter_by(**where).order_by(CaseAdvisoryRow.ref)
        )
    )
    return to_case(
        row,
        organisations_of(session, [row.id]).get(row.id, ()),
        clocks=clocks(row, policy or ClockPolicy(), now or utcnow()),
        alerts=alert_ids,
        advisories=advisories,
        observables=observables,
        tasks=tasks,
        timeline=timeline,
        attachments=attachments,
    )


def _sightings(
    session: Session, kind: ObservableKind, value: str, codes: Sequence[str] | None
) -> int:
    indicator = indicator_id(kind, value)
    return 0 if indicator is None else alertlinks.sightings(session, indicator, codes)


def attachment_of(session: Session, case_id: int, attachment_id: int, scope: Scope) -> Attachment:
    """Return an attachment of a visible case; another case's attachment is not found."""
    case_row(session, case_id, scope)
    a = session.get(AttachmentRow, attachment_id)
    if a is None or a.case_id != case_id:
        msg = f"no attachment {attachment_id} on case {case_id}"
        raise NotFoundError(msg)
    return Attachment(a.id, a.name, a.sha256, a.size, a.media_type, a.added_by, a.added_at)
