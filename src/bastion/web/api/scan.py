"""`/api/v1/scan`: findings, rescans, exceptions, organisation reports and the national view.

Members see only their own organisations' findings; a lead may ask for a rescan
of a finding ("I fixed it") and *request* an exception; only a national analyst
approves one. Scans themselves run from the scheduler or the CLI, never inline.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from bastion import scan
from bastion.core.errors import NotFoundError, PermissionDenied
from bastion.web.auth import PrincipalDep, ScopeDep
from bastion.web.deps import PRINTABLE, SessionDep

router = APIRouter(prefix="/scan", tags=["scan"])
Text = Annotated[str | None, Query(max_length=64, pattern=PRINTABLE)]


def finding_json(finding: scan.Finding, remediation: str | None = None) -> dict[str, Any]:
    """Return the finding as scan shows it, with the remediation written for it if given."""
    found = scan.finding_json(finding)
    if remediation is not None:
        found["remediation"] = remediation
    return found


def exception_json(item: scan.ScanException) -> dict[str, Any]:
    """Return the exception with its state's name and ISO date, as JSON carries them."""
    found: dict[str, Any] = jsonable_encoder(item)
    return found


@router.get("/findings", summary="List findings, worst first")
def list_findings(
    session: SessionDep,
    principal: PrincipalDep,
    scope: ScopeDep,
    org: Text = None,
    status: Text = None,
    severity: Text = None,
    check: Text = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Return the findings the caller may see, filtered, one page at a time."""
    principal.require("scan:read")
    found, total = scan.list_findings(
        session, scope, org=org, status=status, severity=severity, check=check,
        limit=limit, offset=offset,
    )  # fmt: skip
    return {"total": total, "findings": [finding_json(f) for f in found]}


@router.get("/findings/{finding_id}", summary="One finding with its evidence and remediation")
def get_finding(
    finding_id: int, session: SessionDep, principal: PrincipalDep, scope: ScopeDep
) -> dict[str, Any]:
    """Return one finding, its evidence and the remediation written for the organisation."""
    finding = scan.get_finding(session, scope, finding_id)
    principal.require("scan:read", finding.org)
    return finding_json(finding, scan.remediation_text(finding))


@router.post("/findings/{finding_id}/rescan", summary="Say a finding is fixed: rescan to confirm")
def rescan(
    finding_id: int, session: SessionDep, principal: PrincipalDep, scope: ScopeDep
) -> dict[str, Any]:
    """Mark the finding fixed-unconfirmed and its host due; it closes only if the rescan agrees."""
    finding = scan.get_finding(session, scope, finding_id)
    principal.require("scan:write", finding.org)
    done = scan.request_rescan(session, scope, finding_id, actor=principal.as_actor())
    return finding_json(done)


class ExceptionIn(BaseModel):
    org: str = Field(max_length=16, pattern=PRINTABLE)
    host: str = Field(min_length=1, max_length=253, pattern=PRINTABLE)
    check: str | None = Field(default=None, max_length=32, description=", ".join(scan.CHECKS))
    expires_on: date
    reason: str = Field(min_length=1, max_length=2000)


@router.get("/exceptions", summary="List exceptions")
def list_exceptions(
    session: SessionDep, principal: PrincipalDep, scope: ScopeDep
) -> dict[str, Any]:
    """Return the exceptions the caller may see, newest first."""
    principal.require("scan:read")
    return {"exceptions": [exception_json(e) for e in scan.list_exceptions(session, scope)]}


@router.post("/exceptions", status_code=201, summary="Request (or, nationally, add) an exception")
def add_exception(
    body: ExceptionIn, session: SessionDep, principal: PrincipalDep, scope: ScopeDep
) -> dict[str, Any]:
    """A member's request waits for national approval; a national analyst's is approved at once."""
    org = body.org.strip().upper()
    if not scope.allows(org):
        msg = f"no organisation with code {body.org!r}"
        raise NotFoundError(msg)
    principal.require("scan:write", org)
    if body.check:
        scan.CHECKS.get(body.check)
    made = scan.add_exception(
        session, org, body.host, body.check, expires_on=body.expires_on, reason=body.reason,
        actor=principal.as_actor(), approve=principal.can_nationally("scan:write"),
    )  # fmt: skip
    return exception_json(made)


class DecisionIn(BaseModel):
    approve: bool


@router.post("/exceptions/{exception_id}/decision", summary="Approve or reject an exception")
def decide(
    exception_id: int,
    body: DecisionIn,
    session: SessionDep,
    principal: PrincipalDep,
    scope: ScopeDep,
) -> dict[str, Any]:
    """Decide a requested exception: national analysts only."""
    scan.get_exception(session, scope, exception_id)
    if not principal.can_nationally("scan:write"):
        msg = f"{principal.actor} may not approve scan exceptions (a national analyst decides)"
        raise PermissionDenied(msg, permission="scan:write", national=True, caller=principal.actor)
    made = scan.decide_exception(
        session, exception_id, approve=body.approve, actor=principal.as_actor()
    )
    return exception_json(made)


@router.get("/report/{org}", summary="An organisation's report")
def report(
    org: str, session: SessionDep, principal: PrincipalDep, scope: ScopeDep
) -> dict[str, Any]:
    """Return the organisation's live findings by severity, each host's grades, and its findings."""
    code = org.strip().upper()
    found = scan.organisation_report(session, scope, code)
    principal.require("scan:read", code)
    found["hosts"] = [h.__dict__ for h in found["hosts"]]
    return found


@router.get("/national", summary="The national view")
def national(
    session: SessionDep,
    principal: PrincipalDep,
    scope: ScopeDep,
    weeks: Annotated[int, Query(ge=1, le=104)] = 12,
) -> dict[str, Any]:
    """Return live findings by check, severity and region, the worst hosts, and per week the
    findings opened and closed by severity (``trend``, oldest week first), all in scope."""
    principal.require("scan:read")
    return scan.national_summary(session, scope, weeks=weeks)
