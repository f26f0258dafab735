"""`/api/v1/behaviour`: results of behavioural hunting, marking one benign, the allow-list.

Members see their own organisations' results and allow-list entries; a lead may
mark a result benign and edit its organisation's entries; national entries (and
marking benign for everyone) are the national analysts'. Hunts run from the
scheduler or the CLI, never inline.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bastion import behaviour
from bastion.auth import Principal
from bastion.core.errors import NotFoundError, PermissionDenied
from bastion.core.scope import Scope
from bastion.web.auth import PrincipalDep, ScopeDep
from bastion.web.deps import PRINTABLE, SessionDep

router = APIRouter(prefix="/behaviour", tags=["behaviour"])
Text = Annotated[str | None, Query(max_length=64, pattern=PRINTABLE)]
MAX_ID = 2**31 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


def result_json(result: behaviour.BehaviourResult, *, evidence: bool = False) -> dict[str, Any]:
    found = asdict(result)
    found["day"] = result.day.isoformat()
    found["first_seen"] = result.first_seen.isoformat()
    found["last_seen"] = result.last_seen.isoformat()
    if not evidence:
        found.pop("evidence")
    return found


def entry_json(entry: behaviour.AllowEntry) -> dict[str, Any]:
    found = asdict(entry)
    found["expires_on"] = entry.expires_on.isoformat()
    found["created_at"] = entry.created_at.isoformat()
    return found


@router.get("/results", summary="List results, best first (federation-wide first)")
def list_results(
    session: SessionDep,
    principal: PrincipalDep,
    scope: ScopeDep,
    org: Text = None,
    day: date | None = None,
    status: Annotated[Literal["open", "allowed", "benign"] | None, Query()] = None,
    min_score: Annotated[float, Query(ge=0, le=1)] = 0.0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """Return the results the caller may see, filtered, one page at a time."""
    principal.require("behaviour:read")
    found, total = behaviour.list_results(
        session, scope, days=[day] if day else None, org=org, status=status,
        min_score=min_score, limit=limit, offset=offset,
    )  # fmt: skip
    return {"total": total, "results": [result_json(r) for r in found]}


@router.get("/results/{result_id}", summary="One result with its evidence")
def get_result(
    result_id: IdPath,
    session: SessionDep,
    principal: PrincipalDep,
    scope: ScopeDep,
) -> dict[str, Any]:
    """Return one result: its score's parts, histograms, sample lines and hunt query."""
    result = behaviour.get_result(session, scope, result_id)
    principal.require("behaviour:read", result.org)
    return result_json(result, evidence=True)


class BenignIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    expires_on: date
    national: bool = False


@router.post("/results/{result_id}/benign", summary="Mark a result benign: allow-list it")
def mark_benign(
    result_id: IdPath,
    body: BenignIn,
    session: SessionDep,
    principal: PrincipalDep,
    scope: ScopeDep,
) -> dict[str, Any]:
    """Mark the result benign; its destination joins the organisation's (or national) allow-list."""
    result = behaviour.get_result(session, scope, result_id)
    principal.require("behaviour:write", result.org)
    if body.national:
        writable_org(principal, scope, None)  # national callers only
    done, entry = behaviour.mark_benign(
        session, scope, result_id, reason=body.reason, expires_on=body.expires_on,
        national=body.national, actor=principal.as_actor(),
    )  # fmt: skip
    return {"result": result_json(done), "allow": entry_json(entry)}


class AllowIn(BaseModel):
    org: str | None = Field(default=None, max_length=16, pattern=PRINTABLE)
    kind: Literal["domain", "address", "fingerprint"]
    value: str = Field(min_length=1, max_length=253, pattern=PRINTABLE)
    reason: str = Field(min_length=1, max_length=2000)
    expires_on: date


def writable_org(principal: Principal, scope: Scope, org: str | None) -> str | None:
    """Return the code of the organisation an entry is for (None: national) if the caller may
    write there; raise NotFoundError for another tenant's, PermissionDenied for national."""
    code = org.strip().upper() if org and org.strip() else None
    if code is None:
        if not principal.can_nationally("behaviour:write"):
            msg = f"{principal.actor} may not add national allow-list entries"
            raise PermissionDenied(msg, permission="behaviour:write", national=True,
                                   caller=principal.actor)  # fmt: skip
        return None
    if not scope.allows(code):
        msg = f"no organisation with code {org!r}"
        raise NotFoundError(msg)
    principal.require("behaviour:write", code)
    return code


def editable_entry(
    session: Session, principal: Principal, scope: Scope, entry_id: int
) -> behaviour.AllowEntry:
    """Return an entry the caller sees and may write; raise NotFoundError otherwise."""
    entries = {e.id: e for e in behaviour.list_allowed(session, scope)}
    if entry_id not in entries:
        msg = f"no allow-list entry {entry_id}"
        raise NotFoundError(msg)
    principal.require("behaviour:write", entries[entry_id].org)
    return entries[entry_id]


@router.get("/allow", summary="List the allow-list")
def list_allowed(session: SessionDep, principal: PrincipalDep, scope: ScopeDep) -> dict[str, Any]:
    """Return the entries the caller may see: national ones nationally, else its own."""
    principal.require("behaviour:read")
    return {"allow": [entry_json(e) for e in behaviour.list_allowed(session, scope)]}


@router.post("/allow", status_code=201, summary="Add an allow-list entry")
def add_allowed(
    body: AllowIn, session: SessionDep, principal: PrincipalDep, scope: ScopeDep
) -> dict[str, Any]:
    """Add an organisation's entry (its lead), or a national one (no ``org``: national analysts)."""
    org = writable_org(principal, scope, body.org)
    made = behaviour.add_allowed(
        session, scope, org=org, kind=body.kind, value=body.value, reason=body.reason,
        expires_on=body.expires_on, actor=principal.as_actor(),
    )  # fmt: skip
    return entry_json(made)


@router.delete("/allow/{entry_id}", summary="Remove an allow-list entry")
def remove_allowed(
    entry_id: IdPath,
    session: SessionDep,
    principal: PrincipalDep,
    scope: ScopeDep,
) -> dict[str, Any]:
    """Remove an entry the caller may edit."""
    editable_entry(session, principal, scope, entry_id)
    return entry_json(
        behaviour.remove_allowed(session, scope, entry_id, actor=principal.as_actor())
    )
