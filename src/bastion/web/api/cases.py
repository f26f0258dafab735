"""`/api/v1/cases`: SOC cases — open, promote, merge, work, close; campaigns and response times.

A member sees and changes only its own organisations' cases: any other case
answers 404, exactly as one that does not exist; national roles see every case;
auditors and viewers read only. Visibility is asked first (``bastion.cases``
takes the caller's scope), then the role at the case's organisations (403).
Every change goes to the audit trail through ``bastion.cases``' own functions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
    status,
)
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bastion import cases
from bastion.auth import Principal
from bastion.core.errors import LimitExceeded
from bastion.core.settings import Settings
from bastion.web.api.org_models import Code
from bastion.web.api.paging import Limit, Offset
from bastion.web.auth import PrincipalDep
from bastion.web.deps import PRINTABLE, SessionDep, SettingsDep

MAX_ID = 2**31 - 1

router = APIRouter(prefix="/cases", tags=["cases"])

CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="the case's id")]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID, description="the item's id")]
Line = Annotated[str, Field(min_length=1, max_length=300, pattern=PRINTABLE)]
Short = Annotated[str, Field(max_length=120, pattern=PRINTABLE)]
Text = Annotated[str, Field(min_length=1, max_length=20_000)]
Word = Annotated[str, Field(max_length=64, pattern=PRINTABLE)]


def reader(principal: PrincipalDep) -> Principal:
    """The caller, if it may read cases anywhere (403 otherwise)."""
    principal.require("cases:read")
    return principal


Reader = Annotated[Principal, Depends(reader)]


def writable(session: Session, principal: Principal, case_id: int) -> cases.Case:
    """Return the case if the caller sees it (else 404) and may change it (else 403)."""
    found = cases.get_case(session, case_id, principal.scope)
    if not any(principal.can("cases:write", org) for org in found.organisations):
        principal.require("cases:write", found.organisations[0] if found.organisations else None)
    return found


def notifier(request: Request, settings: SettingsDep) -> cases.Notifier:
    """Where case notifications go: the app's ``cases_notifier``, else the settings."""
    found = getattr(request.app.state, "cases_notifier", None)
    return found if isinstance(found, cases.Notifier) else cases.notifier(settings)


NotifierDep = Annotated[cases.Notifier, Depends(notifier)]


class CaseIn(BaseModel):
    """A new case."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Line
    organisations: Annotated[list[Code], Field(min_length=1, max_length=50)]
    description: Annotated[str, Field(max_length=20_000)] = ""
    severity: cases.CaseSeverity = cases.CaseSeverity.MEDIUM
    tlp: Word = "AMBER"
    pap: cases.Pap = cases.Pap.AMBER
    owner: Short | None = None
    tags: Annotated[list[Word], Field(max_length=50)] = []
    techniques: Annotated[list[Word], Field(max_length=50)] = []
    template: Line | None = None
    patient_impact: cases.PatientImpact = cases.PatientImpact.NONE
    clinical_systems: Annotated[list[Short], Field(max_length=50)] = []
    downtime_since: datetime | None = None
    personal_data: bool = False
    aware_at: datetime | None = None


class PromoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    alert_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    title: Line | None = None
    template: Line | None = None


class CaseChange(BaseModel):
    """Fields to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Line | None = None
    description: Annotated[str, Field(max_length=20_000)] | None = None
    severity: cases.CaseSeverity | None = None
    tlp: Word | None = None
    pap: cases.Pap | None = None
    tags: Annotated[list[Word], Field(max_length=50)] | None = None
    techniques: Annotated[list[Word], Field(max_length=50)] | None = None
    patient_impact: cases.PatientImpact | None = None
    clinical_systems: Annotated[list[Short], Field(max_length=50)] | None = None
    downtime_since: datetime | None = None
    personal_data: bool | None = None
    aware_at: datetime | None = None


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: cases.CaseStatus
    resolution: Annotated[str, Field(max_length=500)] = ""


class OwnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner: Short | None


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text


class ObservableIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: cases.ObservableKind
    value: Annotated[str, Field(min_length=1, max_length=2000, pattern=PRINTABLE)]
    tlp: Word | None = None
    note: Annotated[str, Field(max_length=500)] = ""


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Line


class TaskChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: cases.TaskStatus | None = None
    assignee: Short | None = None


class AlertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alert_id: Annotated[int, Field(ge=1, le=MAX_ID)]


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: Annotated[int, Field(ge=1, le=MAX_ID)]


class AdvisoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: Annotated[str, Field(max_length=16, pattern=r"^[A-Za-z]{2}-\d{1,8}$")]


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: Annotated[str, Field(min_length=1, max_length=10_000)]
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


class Page(BaseModel):
    items: list[cases.Case]
    total: int


class Created(BaseModel):
    id: int


# --- reading ---------------------------------------------------------------------------


@router.get("", summary="List the cases the caller may see, newest first")
def list_cases(
    session: SessionDep,
    principal: Reader,
    settings: SettingsDep,
    limit: Limit = 50,
    offset: Offset = 0,
    case_status: Annotated[cases.CaseStatus | None, Query(alias="status")] = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    org: Annotated[Code | None, Query()] = None,
    severity: cases.CaseSeverity | None = None,
    search: Annotated[str | None, Query(max_length=200, pattern=PRINTABLE)] = None,
) -> Page:
    found, total = cases.list_cases(
        session, principal.scope, status=case_status.value if case_status else None,
        open_only=open_only, org=org, severity=severity.value if severity else None,
        search=search, policy=cases.clock_policy(settings), limit=limit, offset=offset,
    )  # fmt: skip
    return Page(items=found, total=total)


@router.get("/campaigns", summary="Observables shared by several organisations' cases")
def list_campaigns(session: SessionDep, principal: Reader) -> list[cases.CampaignSummary]:
    return cases.campaigns(session, principal.scope)


@router.get("/campaigns/{kind}/{value:path}", summary="Who one observable touches")
def show_campaign(
    session: SessionDep,
    principal: PrincipalDep,
    kind: cases.ObservableKind,
    value: Annotated[str, Path(max_length=2000, pattern=PRINTABLE)],
) -> cases.Campaign:
    found = cases.campaign(session, principal.scope, kind.value, value)  # others': 404 first
    principal.require("cases:read")
    return found


@router.get("/stats", summary="MTTA, MTTR and open cases by age")
def stats(
    session: SessionDep,
    principal: Reader,
    settings: SettingsDep,
    since: datetime | None = None,
    until: datetime | None = None,
) -> cases.CaseStats:
    return cases.case_stats(session, principal.scope, since=since, until=until, settings=settings)


@router.get("/{case_id}", summary="One case with its timeline, observables, tasks and clocks")
def get_case(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, case_id: CaseId
) -> cases.Case:
    policy = cases.clock_policy(settings)
    found = cases.get_case(session, case_id, principal.scope, policy=policy)  # others': 404 first
    principal.require("cases:read")
    return found


@router.get("/{case_id}/attachments/{attachment_id}", summary="Download an attachment")
def download(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    case_id: CaseId,
    attachment_id: ItemId,
) -> Response:
    found = cases.attachment_of(session, case_id, attachment_id, principal.scope)
    principal.require("cases:read")
    data = cases.attachment_path(settings.attachments_dir, found.sha256).read_bytes()
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{found.sha256}"',
                 "X-Content-Type-Options": "nosniff"},
    )  # fmt: skip


# --- changing ----------------------------------------------------------------------------


@router.post("", status_code=status.HTTP_201_CREATED, summary="Open a case")
def create(
    body: CaseIn, session: SessionDep, principal: PrincipalDep, notify: NotifierDep
) -> cases.Case:
    scope = principal.scope
    for code in body.organisations:  # out of scope: 404, as the service says; then the role
        if scope.allows(code):
            principal.require("cases:write", code)
    draft = cases.CaseDraft(
        **body.model_dump(exclude={"organisations", "tags", "techniques", "clinical_systems"}),
        organisations=tuple(body.organisations), tags=tuple(body.tags),
        techniques=tuple(body.techniques), clinical_systems=tuple(body.clinical_systems),
    )  # fmt: skip
    return cases.create_case(
        session, draft, actor=principal.as_actor(), scope=scope, notifier=notify
    )


@router.post("/from-alert", status_code=status.HTTP_201_CREATED, summary="Promote an alert")
def promote(
    body: PromoteIn, session: SessionDep, principal: PrincipalDep, notify: NotifierDep
) -> cases.Case:
    org = cases.alert_organisation(session, body.alert_id, principal.scope)
    principal.require("cases:write", org)
    return cases.promote_alert(
        session, body.alert_id, title=body.title, template=body.template,
        actor=principal.as_actor(), scope=principal.scope, notifier=notify,
    )  # fmt: skip


@router.patch("/{case_id}", summary="Change a case's fields")
def change(
    case_id: CaseId, body: CaseChange, session: SessionDep, principal: PrincipalDep
) -> cases.Case:
    return act(session, principal, case_id, cases.update_case, body.model_dump(exclude_unset=True))


@router.post("/{case_id}/status", summary="Move a case along its lifecycle, or close it")
def set_status(
    case_id: CaseId, body: StatusIn, session: SessionDep, principal: PrincipalDep
) -> cases.Case:
    return act(
        session, principal, case_id, cases.set_status, body.status.value,
        resolution=body.resolution,
    )  # fmt: skip


@router.post("/{case_id}/owner", summary="Assign a case to a user or team")
def assign(
    case_id: CaseId,
    body: OwnerIn,
    session: SessionDep,
    principal: PrincipalDep,
    notify: NotifierDep,
) -> cases.Case:
    return act(session, principal, case_id, cases.assign, body.owner, notifier=notify)


Changed = TypeVar("Changed")


def act(
    session: Session,
    principal: Principal,
    case_id: int,
    change: Callable[..., Changed],
    *args: Any,
    **options: Any,
) -> Changed:
    """Make one change to case ``case_id`` through the service, as the caller and within
    their scope, once they may write it (``writable``): what every write route does."""
    writable(session, principal, case_id)
    return change(
        session, case_id, *args, actor=principal.as_actor(), scope=principal.scope, **options
    )


def _created(item_id: int) -> Created:
    return Created(id=item_id)


@router.post("/{case_id}/notes", status_code=status.HTTP_201_CREATED, summary="Add a note")
def note(case_id: CaseId, body: NoteIn, session: SessionDep, principal: PrincipalDep) -> Created:
    return _created(act(session, principal, case_id, cases.add_note, body.text))


@router.post(
    "/{case_id}/observables", status_code=status.HTTP_201_CREATED, summary="Add an observable"
)
def observable(
    case_id: CaseId, body: ObservableIn, session: SessionDep, principal: PrincipalDep
) -> Created:
    return _created(
        act(
            session, principal, case_id, cases.add_observable, body.kind.value, body.value,
            tlp=body.tlp, note=body.note,
        )
    )  # fmt: skip


@router.post("/{case_id}/tasks", status_code=status.HTTP_201_CREATED, summary="Add a task")
def task(case_id: CaseId, body: TaskIn, session: SessionDep, principal: PrincipalDep) -> Created:
    return _created(act(session, principal, case_id, cases.add_task, body.title))


@router.patch("/{case_id}/tasks/{task_id}", summary="Change a task's status or assignee")
def change_task(
    case_id: CaseId, task_id: ItemId, body: TaskChange, session: SessionDep, principal: PrincipalDep
) -> cases.Case:
    writable(session, principal, case_id)
    cases.set_task(
        session, case_id, task_id, status=body.status.value if body.status else None,
        assignee=body.assignee, actor=principal.as_actor(), scope=principal.scope,
    )  # fmt: skip
    return cases.get_case(session, case_id, principal.scope)


@router.post("/{case_id}/alerts", summary="Merge an alert (and its group) into the case")
def merge_alert(
    case_id: CaseId, body: AlertIn, session: SessionDep, principal: PrincipalDep
) -> cases.Case:
    return act(session, principal, case_id, cases.merge_alert, body.alert_id)


@router.post("/{case_id}/merge", summary="Merge another case into this one (it closes)")
def merge(
    case_id: CaseId, body: MergeIn, session: SessionDep, principal: PrincipalDep
) -> cases.Case:
    writable(session, principal, case_id)
    writable(session, principal, body.case_id)
    return cases.merge_cases(
        session, case_id, body.case_id, actor=principal.as_actor(), scope=principal.scope
    )


@router.post("/{case_id}/advisories", summary="Link a national cyber alert (advisory)")
def link_advisory(
    case_id: CaseId, body: AdvisoryIn, session: SessionDep, principal: PrincipalDep
) -> cases.Case:
    return act(session, principal, case_id, cases.link_advisory, body.ref)


@router.post("/{case_id}/clocks/{clock}/report", summary="Record a regulatory report made")
def report(
    case_id: CaseId, clock: cases.Clock, session: SessionDep, principal: PrincipalDep
) -> cases.Case:
    return act(session, principal, case_id, cases.report_clock, clock.value)


@router.post(
    "/{case_id}/evidence", status_code=status.HTTP_201_CREATED, summary="Pull evidence by a hunt"
)
def evidence(
    case_id: CaseId,
    body: EvidenceIn,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    writable(session, principal, case_id)
    found = cases.add_evidence(
        session, case_id, settings.archive_dir, body.query, limit=body.limit,
        actor=principal.as_actor(), scope=principal.scope,
    )  # fmt: skip
    return {"events": found}


@router.post("/{case_id}/attachments", status_code=status.HTTP_201_CREATED, summary="Attach a file")
async def attach(
    case_id: CaseId,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="the file")],
    name: Annotated[str | None, Form(max_length=255, pattern=PRINTABLE)] = None,
) -> Created:
    return _created(await store_upload(session, principal, settings, case_id, file, name))


async def store_upload(
    session: Session,
    principal: Principal,
    settings: Settings,
    case_id: int,
    file: UploadFile,
    name: str | None = None,
) -> int:
    """Attach an uploaded file to a workable case (API and console); return its id."""
    writable(session, principal, case_id)
    cap = settings.cases_attachment_max_bytes
    data = await file.read(cap + 1)
    if len(data) > cap:
        msg = f"attachment is larger than the limit of {cap} bytes"
        raise LimitExceeded(msg)
    return cases.add_attachment(
        session,
        case_id,
        (name or file.filename or "attachment")[:255],
        data,
        media_type=file.content_type or "application/octet-stream",
        actor=principal.as_actor(),
        scope=principal.scope,
        root=settings.attachments_dir,
        max_bytes=cap,
    )
