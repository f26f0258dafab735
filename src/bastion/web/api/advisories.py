"""`/api/v1/advisories`: national cyber alerts and each organisation's response to them.

National analysts draft, edit, preview, publish and revise an alert; an
organisation's security lead acknowledges it, says whether it applies, records
remediation actions and closes its response, for its own organisations only.
A member sees only the published alerts that reached one of its organisations,
and only those organisations' responses: any other alert answers 404, exactly
as one that does not exist. Every change goes to the audit trail
through the advisories' own functions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bastion import advisories as adv
from bastion.auth import Principal, Scope
from bastion.core.errors import InputError
from bastion.core.types import org_code
from bastion.web.api.org_models import Code
from bastion.web.api.paging import Offset
from bastion.web.auth import PrincipalDep, ScopeDep, require_national
from bastion.web.deps import PRINTABLE, SessionDep, get_settings

MAX_LIMIT = 100
MAX_ID = 2**31 - 1

router = APIRouter(prefix="/advisories", tags=["advisories"])

Ref = Annotated[
    str, Path(max_length=16, pattern=r"^[A-Za-z]{2}-\d{1,8}$", description="e.g. `CC-0001`")
]
ActionId = Annotated[int, Path(ge=1, le=MAX_ID, description="the action's id")]
Line = Annotated[str, Field(max_length=300, pattern=PRINTABLE)]
Text = Annotated[str, Field(max_length=20_000)]
Vuln = Annotated[str, Field(max_length=64, pattern=PRINTABLE)]
Organisations = Annotated[list[Code], Field(min_length=1, max_length=1000)]


def smtp_config(request: Request) -> adv.SmtpConfig:
    """Return where alert e-mail goes: the app's ``advisories_smtp``, else the environment."""
    found = getattr(request.app.state, "advisories_smtp", None)
    return found if isinstance(found, adv.SmtpConfig) else adv.SmtpConfig.from_env()


def policy(request: Request) -> adv.Policy:
    """Return the response deadlines policy of the data directory."""
    return adv.load_policy(get_settings(request).data_dir)


# --- visibility: bastion.advisories decides what a scope sees; here the roles --------


def respondable(
    session: Session, principal: Principal, ref: str, codes: list[str]
) -> tuple[adv.Alert, list[str]]:
    """Check the caller may respond to ``ref`` for each of ``codes``; return them normalised.

    Visibility first: an alert or organisation outside the caller's scope, or one
    the alert did not reach, is not found (404); only then is the role at each
    organisation checked (403).
    """
    alert, wanted = adv.reached_organisations(session, ref, principal.scope, codes)
    for code in wanted:
        principal.require("advisories:write", code)
    return alert, wanted


def readable(principal: PrincipalDep) -> Principal:
    principal.require("advisories:read")
    return principal


# --- models --------------------------------------------------------------------------


class AdvisoryIn(BaseModel):
    """What an alert says, and the organisations named besides those found exposed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Line = Field(min_length=1)
    severity: adv.AlertSeverity
    type: Annotated[str, Field(max_length=64, pattern=PRINTABLE)] = "vulnerability"
    summary: Text = ""
    affected_products: Text = ""
    threat_details: Text = ""
    remediation: Text = ""
    cves: Annotated[list[Vuln], Field(max_length=200)] = []
    organisations: Annotated[list[Code], Field(max_length=1000)] = []

    def content(self) -> adv.AlertContent:
        return adv.AlertContent(
            title=self.title, severity=self.severity, type=self.type, summary=self.summary,
            affected_products=self.affected_products, threat_details=self.threat_details,
            remediation=self.remediation, cves=tuple(self.cves),
        )  # fmt: skip


class RevisionIn(AdvisoryIn):
    """A new version of a published alert, with a note saying what changed."""

    note: Line = Field(min_length=1)
    organisations: Annotated[list[Code], Field(max_length=0)] = []


class ContentOut(BaseModel):
    title: str
    severity: str
    type: str
    summary: str
    affected_products: str
    threat_details: str
    remediation: str
    cves: list[str]

    @classmethod
    def of(cls, content: adv.AlertContent) -> ContentOut:
        return cls(
            title=content.title, severity=content.severity.value, type=content.type,
            summary=content.summary, affected_products=content.affected_products,
            threat_details=content.threat_details, remediation=content.remediation,
            cves=list(content.cves),
        )  # fmt: skip


class VersionOut(BaseModel):
    version: int
    content: ContentOut
    author: str
    change_note: str
    created_at: datetime
    published_at: datetime | None


class AdvisorySummary(BaseModel):
    ref: str = Field(description="`CC-NNNN`")
    status: str = Field(description="`draft` or `published`")
    version: int
    title: str
    severity: str
    created_at: datetime
    published_at: datetime | None

    @classmethod
    def of(cls, alert: adv.Alert) -> AdvisorySummary:
        return cls(
            ref=alert.ref, status=alert.status, version=alert.version,
            title=alert.content.title, severity=alert.content.severity.value,
            created_at=alert.created_at, published_at=alert.published_at,
        )  # fmt: skip


class ActionOut(BaseModel):
    id: int
    description: str
    status: str
    next_update_due: str | None
    updates: list[dict[str, Any]]


class ResponseOut(BaseModel):
    """One organisation's response to an alert."""

    model_config = ConfigDict(from_attributes=True)

    organisation: str
    status: str
    notified_at: datetime
    notified_version: int
    ack_due: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    applicability: str | None
    remediation_due: datetime | None
    remediated_at: datetime | None
    next_update_due: datetime | None
    closed_at: datetime | None
    actions: list[ActionOut]


class AdvisoryOut(AdvisorySummary):
    """An alert with every version and the responses the caller may see."""

    content: ContentOut
    created_by: str
    organisations: list[str] | None = Field(
        description="organisations named by the analyst (national callers only)"
    )
    versions: list[VersionOut]
    responses: list[ResponseOut]


class AdvisoryPage(BaseModel):
    items: list[AdvisorySummary]
    total: int
    limit: int
    offset: int


class TargetOut(BaseModel):
    organisation: str
    name: str
    contacts: list[str]
    exposures: list[str]
    named: bool


class PublishOut(BaseModel):
    ref: str
    version: int
    organisations: list[str]
    emails_sent: int
    emails_failed: int


class RespondIn(BaseModel):
    """The organisations to respond for (a lead of several may respond for all at once)."""

    model_config = ConfigDict(extra="forbid")

    organisations: Organisations


class ApplicabilityIn(RespondIn):
    applicability: adv.Applicability
    next_update: datetime | None = None


ActionStatus = Annotated[str, Field(pattern=r"^(planned|in_progress|done)$")]


class ActionIn(RespondIn):
    description: Annotated[str, Field(min_length=1, max_length=2000)]
    status: ActionStatus = "planned"
    next_update: datetime | None = None


class ActionUpdateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, Field(min_length=1, max_length=2000)]
    status: ActionStatus
    next_update: datetime | None = None


class CloseIn(RespondIn):
    remediated: bool = True


class ActionsOut(BaseModel):
    actions: list[int]


def advisory_out(session: Session, alert: adv.Alert, scope: Scope) -> AdvisoryOut:
    summary = AdvisorySummary.of(alert)
    return AdvisoryOut(
        **summary.model_dump(),
        content=ContentOut.of(alert.content),
        created_by=alert.created_by,
        organisations=list(alert.extra_organisations) if scope.national else None,
        versions=[
            VersionOut(
                version=v.version,
                content=ContentOut.of(v.content),
                author=v.author,
                change_note=v.change_note,
                created_at=v.created_at,
                published_at=v.published_at,
            )
            for v in alert.versions
        ],
        responses=[
            ResponseOut.model_validate(r) for r in adv.visible_responses(session, alert.ref, scope)
        ],
    )


def save_draft(
    session: Session,
    principal: Principal,
    body: AdvisoryIn,
    save: Callable[..., adv.Alert],
    *ref: str,
) -> AdvisoryOut:
    """Save ``body`` as a new draft (``adv.draft_alert``) or over the draft ``ref``
    (``adv.edit_draft``), as the caller; return the alert as the caller sees it."""
    alert = save(
        session,
        *ref,
        body.content(),
        author=principal.as_actor(),
        organisations=tuple(body.organisations),
    )
    return advisory_out(session, alert, principal.scope)


NATIONAL_WRITE = [Depends(require_national("advisories:write"))]


# --- reading -------------------------------------------------------------------------


@router.get("", summary="List national cyber alerts")
def list_advisories(
    session: SessionDep,
    scope: ScopeDep,
    principal: Annotated[Principal, Depends(readable)],
    status: Annotated[
        str | None, Query(pattern=r"^(draft|published)$", description="draft or published")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")] = 50,
    offset: Offset = 0,
) -> AdvisoryPage:
    """Return one page of the alerts the caller may see, newest first."""
    found, total = adv.visible_alerts(session, scope, status=status, limit=limit, offset=offset)
    return AdvisoryPage(
        items=[AdvisorySummary.of(a) for a in found], total=total, limit=limit, offset=offset
    )


@router.get("/{ref}", summary="Get a national cyber alert")
def get_advisory(ref: Ref, session: SessionDep, principal: PrincipalDep) -> AdvisoryOut:
    """Return the alert with its versions and the responses the caller may see."""
    alert = adv.visible_alert(session, ref, principal.scope)  # another tenant's: 404 before 403
    principal.require("advisories:read")
    return advisory_out(session, alert, principal.scope)


# --- national analysts ---------------------------------------------------------------


@router.post(
    "",
    summary="Draft a national cyber alert",
    status_code=status.HTTP_201_CREATED,
    dependencies=NATIONAL_WRITE,
)
def draft_advisory(body: AdvisoryIn, session: SessionDep, principal: PrincipalDep) -> AdvisoryOut:
    """Draft an alert; it reaches nobody until published."""
    return save_draft(session, principal, body, adv.draft_alert)


@router.put("/{ref}", summary="Edit a draft", dependencies=NATIONAL_WRITE)
def edit_advisory(
    ref: Ref, body: AdvisoryIn, session: SessionDep, principal: PrincipalDep
) -> AdvisoryOut:
    """Change a draft in place (a published alert is revised instead)."""
    return save_draft(session, principal, body, adv.edit_draft, ref)


@router.get("/{ref}/preview", summary="Preview who an alert reaches", dependencies=NATIONAL_WRITE)
def preview_advisory(ref: Ref, session: SessionDep) -> list[TargetOut]:
    """Return the organisations the alert would reach now, and the exposures that decide it."""
    return [
        TargetOut(
            organisation=t.organisation, name=t.name, contacts=list(t.contacts),
            exposures=list(t.exposures), named=t.named,
        )
        for t in adv.preview(session, ref)
    ]  # fmt: skip


def _publish_out(report: Any) -> PublishOut:
    return PublishOut(
        ref=report.ref, version=report.version, organisations=list(report.targets),
        emails_sent=report.emails_sent, emails_failed=report.emails_failed,
    )  # fmt: skip


@router.post("/{ref}/publish", summary="Publish a draft", dependencies=NATIONAL_WRITE)
def publish_advisory(
    ref: Ref, request: Request, session: SessionDep, principal: PrincipalDep
) -> PublishOut:
    """Publish the draft: e-mail every affected organisation and open its response."""
    report = adv.publish(
        session, ref, actor=principal.as_actor(), policy=policy(request), smtp=smtp_config(request)
    )
    return _publish_out(report)


@router.post("/{ref}/revisions", summary="Revise a published alert", dependencies=NATIONAL_WRITE)
def revise_advisory(
    ref: Ref, body: RevisionIn, request: Request, session: SessionDep, principal: PrincipalDep
) -> PublishOut:
    """Publish a new version and notify every organisation it reaches again."""
    report = adv.revise(
        session,
        ref,
        body.content(),
        note=body.note,
        actor=principal.as_actor(),
        policy=policy(request),
        smtp=smtp_config(request),
    )
    return _publish_out(report)


# --- organisations' responses --------------------------------------------------------


@router.post("/{ref}/responses/acknowledge", summary="Acknowledge an alert")
def acknowledge_advisory(
    ref: Ref, body: RespondIn, session: SessionDep, principal: PrincipalDep
) -> list[ResponseOut]:
    """Acknowledge the alert for each organisation named (again is no error)."""
    alert, codes = respondable(session, principal, ref, body.organisations)
    found = adv.acknowledge(session, alert.ref, codes, actor=principal.as_actor())
    return [ResponseOut.model_validate(r) for r in found]


@router.post("/{ref}/responses/applicability", summary="Say whether an alert applies")
def set_applicability(
    ref: Ref, body: ApplicabilityIn, request: Request, session: SessionDep, principal: PrincipalDep
) -> list[ResponseOut]:
    """Record whether the alert applies to each organisation (acknowledging it on the way)."""
    alert, codes = respondable(session, principal, ref, body.organisations)
    found = adv.set_applicability(
        session,
        alert.ref,
        codes,
        body.applicability.value,
        actor=principal.as_actor(),
        next_update=body.next_update,
        policy=policy(request),
    )
    return [ResponseOut.model_validate(r) for r in found]


@router.post(
    "/{ref}/responses/actions",
    summary="Record a remediation action",
    status_code=status.HTTP_201_CREATED,
)
def add_action(
    ref: Ref, body: ActionIn, session: SessionDep, principal: PrincipalDep
) -> ActionsOut:
    """Record one remediation action for each organisation named; return the new ids."""
    alert, codes = respondable(session, principal, ref, body.organisations)
    ids = adv.add_action(
        session,
        alert.ref,
        codes,
        body.description,
        actor=principal.as_actor(),
        next_update=body.next_update,
        status=body.status,
    )
    return ActionsOut(actions=ids)


@router.post("/{ref}/actions/{action_id}/updates", summary="Update a remediation action")
def update_action(
    ref: Ref,
    action_id: ActionId,
    body: ActionUpdateIn,
    session: SessionDep,
    principal: PrincipalDep,
) -> ResponseOut:
    """Add a progress note to an action and move its status."""
    alert = adv.visible_alert(session, ref, principal.scope)
    owner = adv.action_organisation(session, alert.ref, action_id, principal.scope)
    principal.require("advisories:write", owner)
    adv.update_action(
        session,
        action_id,
        body.note,
        status=body.status,
        actor=principal.as_actor(),
        next_update=body.next_update,
    )
    [found] = adv.list_responses(session, alert.ref, owner)
    return ResponseOut.model_validate(found)


@router.post("/{ref}/responses/close", summary="Close a response")
def close_response(
    ref: Ref, body: CloseIn, session: SessionDep, principal: PrincipalDep
) -> list[ResponseOut]:
    """Close each organisation's response: remediated, or not applicable to it."""
    alert, codes = respondable(session, principal, ref, body.organisations)
    found = adv.close(
        session, alert.ref, codes, actor=principal.as_actor(), remediated=body.remediated
    )
    return [ResponseOut.model_validate(r) for r in found]


def parse_organisations(values: list[str]) -> list[str]:
    """Normalise organisation codes from a form; name the first bad one."""
    try:
        return [str(org_code(v)) for v in values if v.strip()]
    except InputError as exc:
        msg = f"organisations: {exc}"
        raise InputError(msg) from None
