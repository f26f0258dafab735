"""`/api/v1/assure`: frameworks, returns (autosave, publish), reviews, plans, the national picture.

A member reads and changes its own organisations' returns; a reviewer also reads
the returns assigned to them (and only those) and moves their own review; every
other return answers 404, as one that does not exist. National roles see all.
The dashboard is confined to the caller's scope; a member's anonymised place
among peers of its type is ``/peers/{org}``. Every change goes through
``bastion.assure``, which records it in the audit trail.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, status
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bastion import assure
from bastion.auth import Principal, Scope
from bastion.core.errors import NotFoundError
from bastion.web.api.org_models import Code
from bastion.web.api.paging import Limit, Offset
from bastion.web.auth import PrincipalDep
from bastion.web.deps import PRINTABLE, SessionDep, SettingsDep

MAX_ID = 2**31 - 1
router = APIRouter(prefix="/assure", tags=["assure"])
ReturnId = Annotated[int, Path(ge=1, le=MAX_ID, description="the return's id")]
Id = Annotated[str, Field(min_length=1, max_length=40, pattern=PRINTABLE)]
Short = Annotated[str, Field(min_length=1, max_length=120, pattern=PRINTABLE)]
Period = Annotated[str, Field(pattern=r"^\d{4}-\d{2}$")]


def _json(value: Any) -> Any:
    """Return a domain value (dataclasses, dates) as JSON-ready data."""
    return jsonable_encoder(value)


def reader(principal: PrincipalDep) -> Principal:
    """The caller, if it may read assurance anywhere (403 otherwise)."""
    principal.require("assure:read")
    return principal


Reader = Annotated[Principal, Depends(reader)]


def writable(session: Session, principal: Principal, return_id: int) -> int:
    """Return the id if the caller sees the return (else 404) and may change it (else 403)."""
    row = assure.visible_row(session, return_id, principal.scope)
    principal.require("assure:write", row.org_code)
    return return_id


def shown(session: Session, principal: Principal, return_id: int) -> assure.ReturnView:
    """Return the return if the caller sees it (else 404) and may read assurance (else 403)."""
    row = assure.visible_row(session, return_id, principal.scope, principal.name)
    principal.require("assure:read")
    return assure.view(session, row)


@router.get("/frameworks", summary="The stored framework libraries")
def list_frameworks(session: SessionDep, _: Reader) -> Any:
    """Each framework's key, version, kind and outcome count."""
    return [_json(f) for f in assure.list_frameworks(session)]


@router.get("/returns", summary="Returns the caller may see")
def list_returns(
    session: SessionDep, principal: Reader, limit: Limit = 100, offset: Offset = 0,
    org: Annotated[str | None, Query(max_length=16)] = None,
    period: Annotated[str | None, Query(max_length=9)] = None,
    state: Annotated[Literal["draft", "published"] | None, Query()] = None,
) -> Any:  # fmt: skip
    """One page of returns: its organisations', and those assigned to the caller to review."""
    found, total = assure.list_returns(session, principal.scope, reviewer=principal.name, org=org,
                                        period=period, state=state, limit=limit, offset=offset)  # fmt: skip
    return {"items": _json(found), "total": total}


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    org: Code
    period: Period
    framework: Annotated[str, Field(min_length=2, max_length=64, pattern=PRINTABLE)] = "dspt"


@router.post("/returns", status_code=status.HTTP_201_CREATED, summary="Open a return")
def open_return(
    body: ReturnIn, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> Any:
    """Open the organisation's return for a period; the open actions of its last plan pass to it."""
    if not principal.scope.allows(body.org):
        msg = f"no organisation with code {body.org!r}"
        raise NotFoundError(msg)
    principal.require("assure:write", body.org)
    opened = assure.open_return(session, body.org, body.period, body.framework, actor=principal.as_actor(),
                                 scope=principal.scope, deadline_day=settings.assure_deadline)  # fmt: skip
    return _json(opened)


@router.get("/returns/{return_id}", summary="One return with its outcomes, reviews and drift")
def get_return(return_id: ReturnId, session: SessionDep, principal: PrincipalDep) -> Any:
    return _json(shown(session, principal, return_id))


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: Annotated[str, Field(max_length=4000)] = ""
    alternative: Annotated[str, Field(max_length=2000)] = ""


class ReturnPatch(BaseModel):
    """Part of a return to save (autosave): what is left out stays as it is."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    answers: Annotated[dict[Id, bool | None], Field(max_length=1000)] = {}
    comments: Annotated[dict[Id, CommentIn], Field(max_length=1000)] = {}
    owners: Annotated[dict[Id, Short], Field(max_length=200)] = {}
    evidence: Annotated[dict[Id, Annotated[list[Annotated[str, Field(max_length=500)]], Field(max_length=50)]],
                        Field(max_length=200)] = {}  # fmt: skip
    facts: Annotated[dict[Literal["ce_plus_certificate"], bool], Field(max_length=5)] = {}


@router.patch("/returns/{return_id}", summary="Save part of a return (autosave)")
def patch_return(
    return_id: ReturnId, body: ReturnPatch, session: SessionDep, principal: PrincipalDep
) -> Any:
    writable(session, principal, return_id)
    saved = assure.update_return(
        session, return_id, actor=principal.as_actor(), scope=principal.scope, answers=body.answers,
        comments={k: v.model_dump() for k, v in body.comments.items()}, owners=body.owners,
        evidence=body.evidence, facts=dict(body.facts.items()),
    )  # fmt: skip
    return _json(saved)


@router.post("/returns/{return_id}/publish", summary="Publish the return as its next version")
def publish_return(return_id: ReturnId, session: SessionDep, principal: PrincipalDep) -> Any:
    writable(session, principal, return_id)
    return _json(
        assure.publish(session, return_id, actor=principal.as_actor(), scope=principal.scope)
    )


@router.post(
    "/returns/{return_id}/prefill", summary="Answer unanswered statements from Bastion's evidence"
)
def prefill_return(return_id: ReturnId, session: SessionDep, principal: PrincipalDep) -> Any:
    writable(session, principal, return_id)
    return _json(
        assure.prefill(session, return_id, actor=principal.as_actor(), scope=principal.scope)
    )


@router.get("/returns/{return_id}/versions", summary="The published versions, each with its diff")
def return_versions(return_id: ReturnId, session: SessionDep, principal: PrincipalDep) -> Any:
    found = assure.versions(session, return_id, principal.scope, principal.name)
    principal.require("assure:read")
    return _json(found)


@router.get("/returns/{return_id}/export", summary="The return as XLSX or PDF")
def export_return(
    return_id: ReturnId, session: SessionDep, principal: PrincipalDep, fmt: Annotated[Literal["xlsx", "pdf"], Query(alias="format")] = "xlsx"
) -> Response:  # fmt: skip
    found = shown(session, principal, return_id)
    media = {
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pdf": "application/pdf",
    }
    name = f"{found.org}-{found.period}-{found.framework.replace('@', '-')}.{fmt}"
    return Response(assure.export_return(found, fmt), media_type=media[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


class ReviewerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal["self", "peer", "independent"]
    reviewer: Short


@router.post("/returns/{return_id}/reviews", summary="Assign a reviewer")
def assign_review(
    return_id: ReturnId, body: ReviewerIn, session: SessionDep, principal: PrincipalDep
) -> Any:
    writable(session, principal, return_id)
    assigned = assure.assign_review(session, return_id, body.kind, body.reviewer, actor=principal.as_actor(),
                                     scope=principal.scope)  # fmt: skip
    return _json(assigned)


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    state: Literal["to_do", "in_progress", "needs_clarification", "completed"] | None = None
    outcome: Id | None = None
    comment: Annotated[str, Field(min_length=1, max_length=4000)] | None = None


@router.patch(
    "/returns/{return_id}/reviews/{kind}", summary="Move one's review; comment on an outcome"
)
def update_review(
    return_id: ReturnId, kind: Literal["self", "peer", "independent"], body: ReviewIn, session: SessionDep,
    principal: PrincipalDep,
) -> Any:  # fmt: skip
    assure.visible_row(session, return_id, principal.scope, principal.name)
    principal.require("assure:read")
    moved = assure.review_return(
        session, return_id, kind, reviewer=principal.name, actor=principal.as_actor(),
        national=principal.national and principal.can("assure:write"), state=body.state,
        outcome=body.outcome, comment=body.comment,
    )  # fmt: skip
    return _json(moved)


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: Id
    text: Annotated[str, Field(min_length=1, max_length=1000)]
    owner: Short
    due: date


@router.get("/returns/{return_id}/plan", summary="The improvement plan of the return's period")
def get_plan(return_id: ReturnId, session: SessionDep, principal: PrincipalDep) -> Any:
    actions = assure.plan(session, return_id, principal.scope, principal.name)
    principal.require("assure:read")
    return [
        {"id": a.id, "outcome": a.outcome, "text": a.text, "owner": a.owner, "due": a.due.isoformat(),
         "status": a.status, "inherited_from": a.inherited_from}
        for a in actions
    ]  # fmt: skip


@router.post(
    "/returns/{return_id}/plan", status_code=status.HTTP_201_CREATED, summary="Add a plan action"
)
def add_action(
    return_id: ReturnId, body: ActionIn, session: SessionDep, principal: PrincipalDep
) -> Any:
    writable(session, principal, return_id)
    added = assure.add_action(session, return_id, body.outcome, body.text, body.owner, body.due,
                               actor=principal.as_actor(), scope=principal.scope)  # fmt: skip
    return _json(added)


def _dashboard(
    session: Session, principal: Principal, period: str | None, framework: str
) -> assure.Dashboard:
    return assure.dashboard(session, principal.scope, period, framework)


@router.get("/dashboard", summary="The national picture (confined to the caller's organisations)")
def get_dashboard(
    session: SessionDep, principal: Reader, period: Annotated[str | None, Query(max_length=9)] = None,
    framework: Annotated[str, Query(max_length=64)] = "dspt",
) -> Any:  # fmt: skip
    return _json(_dashboard(session, principal, period, framework))


@router.get("/dashboard.csv", summary="One table of the dashboard as CSV")
def dashboard_csv(
    session: SessionDep, principal: Reader,
    table: Annotated[Literal["statuses", "region", "icb", "type", "weakest", "readiness", "trend"], Query()] = "statuses",
    period: Annotated[str | None, Query(max_length=9)] = None, framework: Annotated[str, Query(max_length=64)] = "dspt",
) -> Response:  # fmt: skip
    board = _dashboard(session, principal, period, framework)
    rows = csv_table(board, table)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return Response(buffer.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="assure-{table}.csv"'})  # fmt: skip


def csv_table(board: assure.Dashboard, table: str) -> list[list[Any]]:
    """Return one table of the dashboard as rows, header first (what its chart draws)."""
    if table == "statuses":
        return [["status", "returns"], *([k, v] for k, v in board.statuses.items())]
    if table in {"region", "icb", "type"}:
        groups = {"region": board.by_region, "icb": board.by_icb, "type": board.by_type}[table]
        names = sorted({s for counts in groups.values() for s in counts})
        return [[table, *names], *([g, *(c.get(s, 0) for s in names)] for g, c in groups.items())]
    if table == "weakest":
        return [["outcome", "title", "share_not_best", "returns"],
                *([w["outcome"], w["title"], w["share_not_best"], w["returns"]] for w in board.weakest)]  # fmt: skip
    if table == "readiness":
        return [["band", "organisations"], *([k, v] for k, v in board.readiness_bands.items())]
    return [
        ["month", "mean", "scores"],
        *([t["month"], t["mean"], t["scores"]] for t in board.readiness_trend),
    ]


OrgPath = Annotated[str, Path(max_length=16)]


def org_view(
    session: Session, principal: Principal, org: str, view: Callable[[Session, str, Scope], Any]
) -> Any:
    """Return one organisation's ``view`` as JSON: read within the caller's scope (another
    tenant's answers 404 first), then only if the caller may read assurance there (else 403)."""
    found = view(session, org, principal.scope)
    principal.require("assure:read", org.strip().upper())
    return _json(found)


@router.get("/peers/{org}", summary="The organisation's anonymised place among peers of its type")
def get_peers(org: OrgPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return org_view(session, principal, org, assure.peer_position)


@router.get("/score/{org}", summary="Cyber Essentials Plus readiness, its formula and history")
def get_score(org: OrgPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return org_view(session, principal, org, assure.org_readiness)


@router.get(
    "/evidence/{org}", summary="Each evidence link and every outcome it supports, per framework"
)
def get_evidence(org: OrgPath, session: SessionDep, principal: PrincipalDep) -> Any:
    return org_view(session, principal, org, assure.evidence_across)
