"""`/api/v1/me` and `/api/v1/audit`: who the caller is, and the audit trail for those who may read it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from bastion import audit
from bastion.audit import AuditEvent
from bastion.web.api.paging import Limit, Offset
from bastion.web.auth import PrincipalDep, require
from bastion.web.deps import PRINTABLE, SessionDep

router = APIRouter(tags=["account"])


class Me(BaseModel):
    """The caller: a person or a token, its roles or scopes, and what it may see."""

    kind: str = Field(description="`user` or `token`")
    name: str
    roles: list[str] = Field(description="a person's roles (national first)")
    memberships: dict[str, str] = Field(description="organisation code → role there")
    scopes: list[str] = Field(description="a token's permissions")
    organisations: list[str] | None = Field(description="codes it may see; null: every one")


class AuditPage(BaseModel):
    items: list[AuditEvent]
    total: int
    limit: int
    offset: int


@router.get("/me", summary="Who am I")
def me(principal: PrincipalDep) -> Me:
    """Return the caller and the organisations it may see."""
    return Me(
        kind=principal.kind.value,
        name=principal.name,
        roles=[r.value for r in principal.roles],
        memberships={c: r.value for c, r in sorted(principal.memberships.items())},
        scopes=sorted(principal.token_scopes),
        organisations=principal.scope.codes,
    )


Filter = Annotated[str | None, Query(max_length=100, pattern=PRINTABLE)]


@router.get(
    "/audit",
    summary="List the audit trail",
    tags=["audit"],
    dependencies=[Depends(require("audit:read"))],
)
def list_audit(
    session: SessionDep,
    action: Filter = None,
    actor: Filter = None,
    org: Annotated[str | None, Query(max_length=16, pattern=PRINTABLE)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> AuditPage:
    """Return one page of audit events, newest first (auditors and national administrators)."""
    found, total = audit.list_events(
        session, action=action, actor=actor, org=org, limit=limit, offset=offset
    )
    return AuditPage(items=list(found), total=total, limit=limit, offset=offset)
