"""The one door that changes cases: each call is one change, one audit event, timeline rows.

Every function takes the caller's ``Scope`` (a case outside it is not found) and
the ``Actor`` the audit trail records. Whether the caller's role may change a
case at its organisation is the door's business, asked after visibility.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bastion import audit
from bastion.audit import Actor
from bastion.cases import alertlinks
from bastion.cases.campaigns import observables_of, recount
from bastion.cases.domain import (
    Case,
    CaseDraft,
    CaseSeverity,
    CaseStatus,
    Clock,
    ObservableKind,
    Pap,
    PatientImpact,
    TaskStatus,
    observable_value,
    parse_choice,
    tag,
    technique,
    template_tasks,
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
from bastion.cases.notify import Notifier, case_assigned, case_opened
from bastion.cases.read import case_row, organisations_of, to_case
from bastion.core.errors import (
    ConflictError,
    InputError,
    NotFoundError,
)
from bastion.core.scope import Scope
from bastion.core.timeutil import as_utc, utcnow
from bastion.core.types import Tlp, org_code

_ALERT_SEVERITY = {"informational": "low", "low": "low", "medium": "medium"}


def _line(value: str, what: str, limit: int = 300) -> str:
    text = value.strip()
    if not text or len(text) > limit or any(ord(c) < 32 for c in text):
        msg = f"a case's {what} is 1-{limit} printable characters"
        raise InputError(msg)
    return text


def _state(row: CaseRow) -> dict[str, Any]:
    return {
        "status": row.status, "severity": row.severity, "owner": row.owner, "tlp": row.tlp,
        "patient_impact": row.patient_impact, "downtime_since": row.downtime_since,
    }  # fmt: skip


def _orgs(session: Session, row: CaseRow) -> tuple[str, ...]:
    return organisations_of(session, [row.id]).get(row.id, ())


def _record(
    session: Session,
    actor: Actor,
    action: str,
    row: CaseRow,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    codes = _orgs(session, row)
    row.updated_at = utcnow()
    audit.record(
        session, actor, action, f"case:{row.id}", org=codes[0] if len(codes) == 1 else None,
        before=before, after=after,
    )  # fmt: skip


def _timeline(
    session: Session, row: CaseRow, actor: Actor, kind: str, text: str, **data: Any
) -> None:
    # The JSON column holds plain values: times as ISO 8601 text.
    data = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}
    session.add(
        TimelineRow(
            case_id=row.id, at=utcnow(), kind=kind, actor=str(actor)[:120], text=text,
            data=data or None,
        )
    )  # fmt: skip


def _case(session: Session, row: CaseRow) -> Case:
    session.flush()
    return to_case(row, _orgs(session, row))


def create_case(
    session: Session,
    draft: CaseDraft,
    *,
    actor: Actor,
    scope: Scope,
    alert_ids: Sequence[int] = (),
    now: datetime | None = None,
    notifier: Notifier | None = None,
) -> Case:
    """Open a case for its organisations (each in ``scope``), linking ``alert_ids``; audited.

    A high or critical case is notified to its organisations (given a ``notifier``).
    """
    moment = now or utcnow()
    codes = sorted({str(org_code(c)) for c in draft.organisations})
    if not codes:
        msg = "a case belongs to at least one organisation (--org)"
        raise InputError(msg)
    for code in codes:
        if not scope.allows(code):
            msg = f"no organisation with code {code!r}"
            raise NotFoundError(msg)
    row = CaseRow(
        title=_line(draft.title, "title"),
        description=draft.description.strip()[:20_000],
        severity=parse_choice(CaseSeverity, draft.severity, "severity").value,
        tlp=parse_choice(Tlp, draft.tlp, "TLP").value,
        pap=parse_choice(Pap, draft.pap, "PAP").value,
        status=CaseStatus.OPEN.value,
        owner=_line(draft.owner, "owner", 120) if draft.owner else None,
        tags=sorted({tag(t) for t in draft.tags}),
        techniques=sorted({technique(t) for t in draft.techniques}),
        patient_impact=parse_choice(PatientImpact, draft.patient_impact, "patient impact").value,
        clinical_systems=[_line(s, "clinical system", 120) for s in draft.clinical_systems],
        downtime_since=as_utc(draft.downtime_since) if draft.downtime_since else None,
        personal_data=draft.personal_data,
        aware_at=as_utc(draft.aware_at) if draft.aware_at else moment,
        created_at=moment,
        updated_at=moment,
        resolution="",
    )
    tasks = [*template_tasks(draft.template), *(_line(t, "task") for t in draft.extra_tasks)]
    session.add(row)
    session.flush()
    session.add_all(CaseOrgRow(case_id=row.id, org_code=c) for c in codes)
    session.add_all(TaskRow(case_id=row.id, title=t, status="todo") for t in tasks)
    _timeline(session, row, actor, "status", "case opened", status=row.status)
    linked = _link_alerts(session, row, actor, alert_ids, scope)
    session.flush()
    audit.record(
        session, actor, "case.create", f"case:{row.id}", org=codes[0] if len(codes) == 1 else None,
        after={**_state(row), "title": row.title, "organisations": codes, "alerts": linked,
               "template": draft.template},
    )  # fmt: skip
    case = _case(session, row)
    case_opened(session, notifier, case)
    return case


def _link_alerts(
    session: Session, row: CaseRow, actor: Actor, alert_ids: Iterable[int], scope: Scope
) -> list[int]:
    """Link each alert (and its group) to the case, adding its organisation; return the ids."""
    wanted: dict[int, alertlinks.LinkedAlert] = {}
    for alert_id in alert_ids:
        for alert in alertlinks.alert_group(session, alert_id, scope.codes):
            wanted[alert.id] = alert
    if not wanted:
        return []
    taken = session.execute(
        select(CaseAlertRow.alert_id, CaseAlertRow.case_id).where(
            CaseAlertRow.alert_id.in_(list(wanted))
        )
    ).all()
    elsewhere = [f"alert {a} is in case {c}" for a, c in taken if c != row.id]
    if elsewhere:
        msg = "; ".join(elsewhere) + " (merge that case instead)"
        raise ConflictError(msg)
    have = {a for a, _ in taken}
    codes = set(_orgs(session, row))
    for alert in wanted.values():
        if alert.id in have:
            continue
        session.add(CaseAlertRow(case_id=row.id, alert_id=alert.id))
        if alert.org and alert.org not in codes:
            session.add(CaseOrgRow(case_id=row.id, org_code=alert.org))
            codes.add(alert.org)
        _timeline(
            session, row, actor, "alert", f"alert {alert.id}: {alert.title}",
            alert=alert.id, severity=alert.severity, org=alert.org,
        )  # fmt: skip
        _observe_alert(session, row, alert)
    session.flush()
    recount(session, observables_of(session, row.id))  # its observables, its organisations
    return sorted(set(wanted) - have)


def _observe_alert(session: Session, row: CaseRow, alert: alertlinks.LinkedAlert) -> None:
    """Add an alert's indicator to the case's observables, at the case's TLP."""
    kinds = {"ipv4": "ip", "ipv6": "ip", "domain": "domain", "url": "url", "ja3": "ja3"}
    kinds |= {"sha256": "hash", "sha1": "hash", "md5": "hash"}
    kind = kinds.get(alert.indicator_type or "")
    if kind is None or not alert.indicator_value:
        return
    value = observable_value(ObservableKind(kind), alert.indicator_value)
    exists = session.scalar(
        select(ObservableRow.id).filter_by(case_id=row.id, kind=kind, value=value)
    )
    if exists is None:
        session.add(ObservableRow(case_id=row.id, kind=kind, value=value, tlp=row.tlp, note=""))
        session.flush()


def promote_alert(
    session: Session,
    alert_id: int,
    *,
    title: str | None,
    actor: Actor,
    scope: Scope,
    template: str | None = None,
    now: datetime | None = None,
    notifier: Notifier | None = None,
) -> Case:
    """Open a case from an alert and its group: their organisations, severity and indicators."""
    group = alertlinks.alert_group(session, alert_id, scope.codes)
    ranks = ["low", "medium", "high", "critical"]
    severity = max((_ALERT_SEVERITY.get(a.severity, a.severity) for a in group), key=ranks.index)
    draft = CaseDraft(
        title=title or group[0].title[:300],
        organisations=tuple(sorted({a.org for a in group if a.org})),
        severity=severity,
        template=template,
        aware_at=min(a.created_at for a in group),
    )
    return create_case(
        session, draft, actor=actor, scope=scope, alert_ids=[a.id for a in group], now=now,
        notifier=notifier,
    )  # fmt: skip


def alert_organisation(session: Session, alert_id: int, scope: Scope) -> str | None:
    """Return the organisation of an alert ``scope`` may see; another's is not found."""
    return alertlinks.linked_alert(session, alert_id, scope.codes).org


def merge_alert(
    session: Session, case_id: int, alert_id: int, *, actor: Actor, scope: Scope
) -> Case:
    """Link an alert (and its group) to an open case; audited."""
    row = _open_case(session, case_id, scope)
    linked = _link_alerts(session, row, actor, [alert_id], scope)
    _record(session, actor, "case.merge_alert", row, after={"alerts": linked})
    return _case(session, row)


def _open_case(session: Session, case_id: int, scope: Scope) -> CaseRow:
    row = case_row(session, case_id, scope)
    if row.status == CaseStatus.CLOSED.value:
        msg = f"case {case_id} is closed: reopen it first"
        raise ConflictError(msg)
    return row


def merge_cases(
    session: Session, target_id: int, source_id: int, *, actor: Actor, scope: Scope
) -> Case:
    """Move everything of case ``source_id`` into ``target_id`` and close the source; audited."""
    if target_id == source_id:
        msg = "a case cannot be merged into itself"
        raise InputError(msg)
    target = _open_case(session, target_id, scope)
    source = _open_case(session, source_id, scope)
    spread = observables_of(session, target.id) | observables_of(session, source.id)
    codes = set(_orgs(session, target))
    for code in _orgs(session, source):
        if code not in codes:
            session.add(CaseOrgRow(case_id=target.id, org_code=code))
    for table in (CaseAlertRow, TaskRow, TimelineRow, AttachmentRow):
        session.execute(update(table).where(table.case_id == source.id).values(case_id=target.id))
    # Observables and advisories are unique per case: move only what the target lacks.
    for obs in session.scalars(select(ObservableRow).filter_by(case_id=source.id)).all():
        twin = select(ObservableRow.id).filter_by(case_id=target.id, kind=obs.kind, value=obs.value)
        if session.scalar(twin) is None:
            obs.case_id = target.id
    for link in session.scalars(select(CaseAdvisoryRow).filter_by(case_id=source.id)).all():
        if (
            session.scalar(select(CaseAdvisoryRow.id).filter_by(case_id=target.id, ref=link.ref))
            is None
        ):
            link.case_id = target.id
    session.flush()
    session.execute(delete(ObservableRow).where(ObservableRow.case_id == source.id))
    session.execute(delete(CaseAdvisoryRow).where(CaseAdvisoryRow.case_id == source.id))
    recount(session, spread)
    target.tags = sorted({*target.tags, *source.tags})
    target.techniques = sorted({*target.techniques, *source.techniques})
    ranks = list(CaseSeverity)
    if ranks.index(CaseSeverity(source.severity)) > ranks.index(CaseSeverity(target.severity)):
        target.severity = source.severity
    source.status, source.closed_at, source.merged_into = "closed", utcnow(), target.id
    source.resolution = f"merged into case {target.id}"
    _timeline(session, target, actor, "merge", f"case {source.id} merged in", case=source.id)
    _record(session, actor, "case.merge", target, after={"merged": source.id})
    return _case(session, target)


def set_status(
    session: Session,
    case_id: int,
    status: str,
    *,
    actor: Actor,
    scope: Scope,
    resolution: str = "",
    now: datetime | None = None,
) -> Case:
    """Move a case along its lifecycle (closing needs a resolution); audited."""
    wanted = parse_choice(CaseStatus, status, "case status")
    row = case_row(session, case_id, scope)
    if wanted.value == row.status:
        msg = f"case {case_id} is already {row.status}"
        raise ConflictError(msg)
    before, moment = _state(row), now or utcnow()
    if wanted is CaseStatus.CLOSED:
        row.resolution = _line(resolution, "resolution", 500)
        row.closed_at = moment
    else:
        row.closed_at, row.resolution = None, ""
    if row.acknowledged_at is None and wanted is not CaseStatus.OPEN:
        row.acknowledged_at = moment
    text = f"status {row.status} → {wanted.value}" + (f": {row.resolution}" * bool(row.resolution))
    row.status = wanted.value
    _timeline(session, row, actor, "status", text, status=wanted.value)
    _record(session, actor, "case.status", row, before=before, after=_state(row))
    return _case(session, row)


def assign(
    session: Session,
    case_id: int,
    owner: str | None,
    *,
    actor: Actor,
    scope: Scope,
    notifier: Notifier | None = None,
) -> Case:
    """Give the case to ``owner`` (a user or team; None: nobody), notified; audited."""
    row = case_row(session, case_id, scope)
    before = _state(row)
    row.owner = _line(owner, "owner", 120) if owner else None
    if row.acknowledged_at is None and row.owner:
        row.acknowledged_at = utcnow()
    _timeline(
        session, row, actor, "status", f"assigned to {row.owner or 'nobody'}", owner=row.owner
    )
    _record(session, actor, "case.assign", row, before=before, after=_state(row))
    case = _case(session, row)
    case_assigned(session, notifier, case)
    return case


def update_case(
    session: Session, case_id: int, changes: dict[str, Any], *, actor: Actor, scope: Scope
) -> Case:
    """Change the case's description, severity, TLP, PAP, tags, techniques or health fields."""
    row = case_row(session, case_id, scope)
    setters: dict[str, Callable[[Any], Any]] = {
        "title": lambda v: _line(v, "title"),
        "description": lambda v: str(v).strip()[:20_000],
        "severity": lambda v: parse_choice(CaseSeverity, v, "severity").value,
        "tlp": lambda v: parse_choice(Tlp, v, "TLP").value,
        "pap": lambda v: parse_choice(Pap, v, "PAP").value,
        "tags": lambda v: sorted({tag(t) for t in v}),
        "techniques": lambda v: sorted({technique(t) for t in v}),
        "patient_impact": lambda v: parse_choice(PatientImpact, v, "patient impact").value,
        "clinical_systems": lambda v: [_line(s, "clinical system", 120) for s in v],
        "downtime_since": lambda v: as_utc(v) if v else None,
        "personal_data": bool,
        "aware_at": as_utc,
    }
    unknown = sorted(set(changes) - set(setters))
    if unknown or not changes:
        msg = f"cannot change {', '.join(unknown) or 'nothing'}; fields are {', '.join(setters)}"
        raise InputError(msg)
    before = {k: getattr(row, k) for k in changes}
    for key, value in changes.items():
        setattr(row, key, setters[key](value))
    after = {k: getattr(row, k) for k in changes}
    _timeline(session, row, actor, "status", "changed " + ", ".join(sorted(changes)), **after)
    _record(session, actor, "case.update", row, before=before, after=after)
    return _case(session, row)


def add_note(session: Session, case_id: int, text: str, *, actor: Actor, scope: Scope) -> int:
    """Add a note to the case's timeline; audited. Return the note's timeline id."""
    row = case_row(session, case_id, scope)
    body = text.strip()
    if not body or len(body) > 20_000:
        msg = "a note is 1-20000 characters"
        raise InputError(msg)
    entry = TimelineRow(case_id=row.id, at=utcnow(), kind="note", actor=str(actor)[:120], text=body)
    session.add(entry)
    session.flush()
    _record(session, actor, "case.note", row, after={"note": entry.id})
    return entry.id


def add_observable(
    session: Session,
    case_id: int,
    kind: str,
    value: str,
    *,
    actor: Actor,
    scope: Scope,
    tlp: str | None = None,
    note: str = "",
) -> int:
    """Add an observable (at the case's TLP unless given); audited. Return its id."""
    row = case_row(session, case_id, scope)
    which = parse_choice(ObservableKind, kind, "observable kind")
    text = observable_value(which, value)
    if session.scalar(
        select(ObservableRow.id).filter_by(case_id=row.id, kind=which.value, value=text)
    ):
        msg = f"case {case_id} already has the {which.value} observable {text!r}"
        raise ConflictError(msg)
    marking = parse_choice(Tlp, tlp, "TLP").value if tlp else row.tlp
    item = ObservableRow(case_id=row.id, kind=which.value, value=text, tlp=marking, note=note[:500])
    session.add(item)
    session.flush()
    recount(session, [(which.value, text)])
    _timeline(session, row, actor, "observable", f"{which.value} {text}", observable=item.id)
    _record(
        session,
        actor,
        "case.observable",
        row,
        after={"kind": which.value, "value": text, "tlp": marking},
    )
    return item.id


def add_task(session: Session, case_id: int, title: str, *, actor: Actor, scope: Scope) -> int:
    """Add a task (to do) to the case; audited. Return its id."""
    row = case_row(session, case_id, scope)
    task = TaskRow(case_id=row.id, title=_line(title, "task"), status="todo")
    session.add(task)
    session.flush()
    _timeline(session, row, actor, "task", f"task added: {task.title}", task=task.id)
    _record(session, actor, "case.task_add", row, after={"task": task.id, "title": task.title})
    return task.id


def set_task(
    session: Session,
    case_id: int,
    task_id: int,
    *,
    actor: Actor,
    scope: Scope,
    status: str | None = None,
    assignee: str | None = None,
) -> None:
    """Change a task's status or assignee; audited."""
    row = case_row(session, case_id, scope)
    task = session.get(TaskRow, task_id)
    if task is None or task.case_id != row.id:
        msg = f"no task {task_id} on case {case_id}"
        raise NotFoundError(msg)
    before = {"status": task.status, "assignee": task.assignee}
    if status is not None:
        task.status = parse_choice(TaskStatus, status, "task status").value
    if assignee is not None:
        task.assignee = _line(assignee, "assignee", 120) if assignee.strip() else None
    after = {"status": task.status, "assignee": task.assignee}
    _timeline(session, row, actor, "task", f"task {task.title}: {task.status}", task=task.id)
    _record(session, actor, "case.task", row, before={"task": task.id, **before}, after=after)


def link_advisory(session: Session, case_id: int, ref: str, *, actor: Actor, scope: Scope) -> Case:
    """Link a national cyber alert (advisory) the caller can see to the case; audited."""
    from bastion import advisories

    row = case_row(session, case_id, scope)
    found = advisories.visible_alert(session, ref, scope)
    if session.scalar(select(CaseAdvisoryRow.id).filter_by(case_id=row.id, ref=found.ref)):
        msg = f"case {case_id} already links advisory {found.ref}"
        raise ConflictError(msg)
    session.add(CaseAdvisoryRow(case_id=row.id, ref=found.ref))
    _timeline(session, row, actor, "advisory", f"advisory {found.ref} linked", advisory=found.ref)
    _record(session, actor, "case.advisory", row, after={"advisory": found.ref})
    return _case(session, row)


def report_clock(
    session: Session,
    case_id: int,
    clock: str,
    *,
    actor: Actor,
    scope: Scope,
    at: datetime | None = None,
) -> Case:
    """Record that a regulatory report was made, stopping its clock; audited."""
    which = parse_choice(Clock, clock, "clock")
    row = case_row(session, case_id, scope)
    column = f"{which.value}_reported_at"
    if getattr(row, column) is not None:
        msg = f"the {which.value} report of case {case_id} is already recorded"
        raise ConflictError(msg)
    setattr(row, column, as_utc(at) if at else utcnow())
    _timeline(session, row, actor, "status", f"{which.value} report made", clock=which.value)
    _record(session, actor, "case.clock", row, after={column: getattr(row, column)})
    return _case(session, row)
