"""`/api/v1/alerts/…` triage: acknowledge, assign, close, note, split, in bulk; groups, history.

Every route finds its alerts in the caller's *read* scope first (another tenant's
alert answers 404, exactly as an absent one), then checks ``alerts:write`` at each
alert's organisation (403: a viewer or an auditor reads but does not triage).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bastion.alerts import Alert, get_alert, list_alerts, triage
from bastion.alerts.external import ExternalAlert, ingest, is_ip
from bastion.auth import Principal
from bastion.core.errors import InputError, NotFoundError
from bastion.core.timeutil import as_utc
from bastion.web.api.alerts import MAX_ID, AlertId, AlertScope, AlertSummary
from bastion.web.auth import PrincipalDep, require_national
from bastion.web.deps import SessionDep

router = APIRouter(prefix="/alerts", tags=["alerts"])

Reason = Annotated[str | None, Field(max_length=10_000, description="why: kept in the history")]
GroupId = Annotated[int, Path(ge=1, le=MAX_ID, description="the group's id")]


class ReasonIn(BaseModel):
    reason: Reason = None


class AssignIn(BaseModel):
    assignee: str = Field(min_length=1, max_length=120, description="a user's login or a team")
    reason: Reason = None


class CloseIn(BaseModel):
    resolution: str = Field(
        max_length=32,
        description="true_positive_impact, true_positive_no_impact, false_positive, benign, "
        "duplicate or not_applicable",
    )
    reason: Reason = None


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)


class BulkIn(BaseModel):
    """One triage action over many alerts: the ids given and those the filters select."""

    action: Literal["ack", "assign", "close"]
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(default_factory=list, max_length=1000)
    rule: str | None = Field(None, max_length=200, description="every open alert of this rule")
    indicator: str | None = Field(None, max_length=500, description="… of this indicator")
    org: str | None = Field(None, max_length=16, description="… of this organisation")
    assignee: str | None = Field(None, max_length=120)
    resolution: str | None = Field(None, max_length=32)
    reason: Reason = None


class Changed(BaseModel):
    """The alerts an action changed (those already there are left out)."""

    changed: list[AlertSummary]


class ChangeOut(BaseModel):
    alert_id: int
    at: datetime
    actor: str
    field: str = Field(description="state, assignee, resolution, note or group")
    before: str | None
    after: str | None
    reason: str | None


class GroupOut(BaseModel):
    """An alert group: every alert of it the caller may see, oldest first."""

    group_id: int
    alerts: list[AlertSummary]


def writable_ids(
    session: SessionDep, principal: Principal, scope: AlertScope, ids: Sequence[int]
) -> list[int]:
    """Check each alert is visible (else 404) and the caller may triage it there (else 403)."""
    for alert_id in ids:
        alert = get_alert(session, alert_id, orgs=scope)
        principal.require("alerts:write", alert.org)
    return list(ids)


def _out(done: list[Alert]) -> Changed:
    return Changed(changed=[AlertSummary.model_validate(a) for a in done])


@dataclass(frozen=True)
class Triager:
    """The caller triaging: their session, who they are and the organisations they read."""

    session: Session
    principal: Principal
    scope: Sequence[str] | None

    def apply(
        self, alert_id: int, change: Callable[..., list[Alert]], *args: Any, **options: Any
    ) -> Changed:
        """Make one ``triage`` change to the alert (visible, else 404; writable, else 403)."""
        ids = writable_ids(self.session, self.principal, self.scope, [alert_id])
        return _out(change(self.session, self.principal.as_actor(), ids, *args, **options))


def triager(session: SessionDep, scope: AlertScope, principal: PrincipalDep) -> Triager:
    return Triager(session, principal, scope)


TriagerDep = Annotated[Triager, Depends(triager)]


@router.post("/{alert_id}/ack", summary="Acknowledge an alert")
def ack_alert(alert_id: AlertId, body: ReasonIn, caller: TriagerDep) -> Changed:
    return caller.apply(alert_id, triage.acknowledge, reason=body.reason)


@router.post("/{alert_id}/assign", summary="Assign an alert to a user or a team")
def assign_alert(alert_id: AlertId, body: AssignIn, caller: TriagerDep) -> Changed:
    return caller.apply(alert_id, triage.assign, body.assignee, reason=body.reason)


@router.post("/{alert_id}/close", summary="Close an alert with a resolution")
def close_alert(alert_id: AlertId, body: CloseIn, caller: TriagerDep) -> Changed:
    return caller.apply(alert_id, triage.close, body.resolution, reason=body.reason)


@router.post(
    "/{alert_id}/notes", summary="Add a note to an alert", status_code=status.HTTP_201_CREATED
)
def note_alert(alert_id: AlertId, body: NoteIn, caller: TriagerDep) -> Changed:
    return caller.apply(alert_id, triage.add_note, body.text)


@router.post("/{alert_id}/split", summary="Move an alert out of its group")
def split_alert(
    alert_id: AlertId,
    body: ReasonIn,
    session: SessionDep,
    scope: AlertScope,
    principal: PrincipalDep,
) -> AlertSummary:
    writable_ids(session, principal, scope, [alert_id])
    moved = triage.split(session, principal.as_actor(), alert_id, reason=body.reason)
    return AlertSummary.model_validate(moved)


@router.get("/{alert_id}/history", summary="An alert's triage history")
def alert_history(alert_id: AlertId, session: SessionDep, scope: AlertScope) -> list[ChangeOut]:
    return [
        ChangeOut.model_validate(c, from_attributes=True)
        for c in triage.history(session, alert_id, orgs=scope)
    ]


@router.get("/groups/{group_id}", summary="An alert group")
def alert_group(group_id: GroupId, session: SessionDep, scope: AlertScope) -> GroupOut:
    found, _ = list_alerts(session, orgs=scope, group_id=group_id, oldest_first=True, limit=500)
    if not found:
        msg = f"no alert group with id {group_id}"
        raise NotFoundError(msg)
    return GroupOut(group_id=group_id, alerts=[AlertSummary.model_validate(a) for a in found])


@router.post("/bulk", summary="Acknowledge, assign or close many alerts with one reason")
def bulk_triage(
    body: BulkIn, session: SessionDep, scope: AlertScope, principal: PrincipalDep
) -> Changed:
    ids = writable_ids(session, principal, scope, body.ids)
    if body.rule or body.indicator or body.org:
        principal.require("alerts:write")
        writable = (
            None
            if principal.can_nationally("alerts:write")
            else [o for o in (scope or []) if principal.can("alerts:write", o)]
        )
        ids += triage.select_ids(
            session, rule=body.rule, indicator=body.indicator, org=body.org, orgs=writable
        )
    if not ids:
        msg = "no alerts to act on: give ids, or filters (rule, indicator, org) that match"
        raise InputError(msg)
    actor = principal.as_actor()
    if body.action == "ack":
        return _out(triage.acknowledge(session, actor, ids, reason=body.reason))
    if body.action == "assign":
        if not body.assignee:
            msg = "assigning needs an assignee"
            raise InputError(msg)
        return _out(triage.assign(session, actor, ids, body.assignee, reason=body.reason))
    if not body.resolution:
        msg = "closing needs a resolution"
        raise InputError(msg)
    return _out(triage.close(session, actor, ids, body.resolution, reason=body.reason))


class ExternalIn(BaseModel):
    """One alert of an outside source, in Bastion's generic webhook shape."""

    id: str = Field(min_length=1, max_length=200, description="the source's own id (dedupe key)")
    title: str = Field(min_length=1, max_length=500)
    severity: Literal["informational", "low", "medium", "high", "critical"] = "medium"
    time: datetime = Field(description="when the source saw it (ISO 8601 with an offset)")
    device_ip: str | None = Field(None, max_length=64, description="the member device's address")
    hostname: str | None = Field(None, max_length=253, description="the member device's name")
    remote_ip: str | None = Field(None, max_length=64, description="the other party, if any")


class IngestIn(BaseModel):
    source: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    alerts: list[ExternalIn] = Field(min_length=1, max_length=1000)


class IngestOut(BaseModel):
    read: int
    created: int
    duplicates: int
    unattributed: int


@router.post(
    "/ingest",
    summary="Push alerts from an outside source",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_national("alerts:write"))],
)
def ingest_alerts(body: IngestIn, session: SessionDep, principal: PrincipalDep) -> IngestOut:
    """Raise alerts pushed by a source holding a national ``alerts:write`` token.

    Each is attributed by ``device_ip`` (the organisation's network) or ``hostname``
    (a registered host name it ends with), deduplicated on (source, id) and grouped.
    """
    items = [
        ExternalAlert(
            source=body.source,
            ref=a.id,
            title=a.title,
            severity=a.severity,
            created=as_utc(a.time),
            device_ip=a.device_ip if a.device_ip and is_ip(a.device_ip) else None,
            hostname=a.hostname,
            remote_ip=a.remote_ip if a.remote_ip and is_ip(a.remote_ip) else None,
            raw=a.model_dump_json()[:4096],
        )
        for a in body.alerts
    ]
    report = ingest(session, principal.as_actor(), body.source, items)
    return IngestOut(**asdict(report))
