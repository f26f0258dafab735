"""`/api/v1/organisations`: list, read and create the federation's organisations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError

from bastion import orgs
from bastion.core.errors import ConflictError, Location, NotFoundError
from bastion.web.api.org_models import (
    Cidr,
    Description,
    HostIn,
    HostOut,
    OrganisationIn,
    OrganisationOut,
    OrganisationPage,
)
from bastion.web.api.org_models import OrganisationSummary as Summary
from bastion.web.api.paging import Limit, Offset
from bastion.web.auth import PrincipalDep, ScopeDep, require, require_national
from bastion.web.deps import SearchQuery, SessionDep, find_organisation, visible_organisations
from bastion.web.errors import FieldError, Problem

router = APIRouter(prefix="/organisations", tags=["organisations"])


@router.get("", summary="List organisations", dependencies=[Depends(require("orgs:read"))])
def list_organisations(
    session: SessionDep,
    scope: ScopeDep,
    search: SearchQuery = "",
    type: Annotated[orgs.OrgType | None, Query(description="only this type")] = None,
    parent: Annotated[
        str | None, Query(max_length=16, description="only children of this code")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> OrganisationPage:
    """Return one page of organisations, sorted by code, with the total that match."""
    parent_code = find_organisation(session, parent, scope).code if parent else None
    found, total = visible_organisations(
        session,
        scope,
        search=search or None,
        type=type,
        parent=parent_code,
        limit=limit,
        offset=offset,
    )
    return OrganisationPage(
        items=[Summary.of(o) for o in found], total=total, limit=limit, offset=offset
    )


@router.get("/{code}", summary="Get an organisation", dependencies=[Depends(require("orgs:read"))])
def get_organisation(code: str, session: SessionDep, scope: ScopeDep) -> OrganisationOut:
    """Return the organisation with its networks, contacts and hosts."""
    return OrganisationOut.of(find_organisation(session, code, scope))


@router.post(
    "",
    summary="Create an organisation",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": Problem, "description": "The code or a network is taken"}},
    dependencies=[Depends(require_national("orgs:write"))],
)
def create_organisation(
    body: OrganisationIn,
    session: SessionDep,
    principal: PrincipalDep,
    request: Request,
    response: Response,
) -> OrganisationOut:
    """Create an organisation with its networks, hosts and contacts, all or nothing."""
    org = body.to_domain()
    try:
        orgs.save_organisation(session, org, actor=principal.as_actor(), create_only=True)
    except NotFoundError:
        # The only lookup a create makes is of the parent: name the field, as validation would.
        msg = f"no organisation with code {org.parent!r}; create the parent first"
        raise FieldError(msg, Location(field="parent")) from None
    except IntegrityError:
        # Two creates racing for one code or network: the loser is told, as if it came second.
        msg = f"organisation {org.code} or one of its networks was registered at the same time"
        raise ConflictError(msg) from None
    response.headers["Location"] = request.url_for("get_organisation", code=org.code).path
    return OrganisationOut.of(orgs.get_organisation(session, org.code))


class NetworkIn(BaseModel):
    """A network (CIDR) the organisation owns."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    cidr: Cidr
    description: Description = ""


class NetworkOut(BaseModel):
    cidr: str
    description: str


def _writable(session: SessionDep, code: str, principal: PrincipalDep) -> orgs.Organisation:
    """Return the organisation if the caller may change it.

    Visibility first: another tenant's organisation is not found (404) whatever
    the caller's role; only then is the role at this organisation checked (403).
    """
    org = find_organisation(session, code, principal.scope)
    principal.require("orgs:write", org.code)
    return org


def _conflict(exc: ConflictError, principal: PrincipalDep, what: str) -> ConflictError:
    # A member must not learn which other organisation holds a network or host.
    if principal.national:
        return exc
    return ConflictError(f"{what} is already registered to another organisation")


@router.post(
    "/{code}/networks",
    summary="Register a network of an organisation",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": Problem, "description": "The network is registered already"}},
)
def add_network(
    code: str, body: NetworkIn, session: SessionDep, principal: PrincipalDep
) -> NetworkOut:
    """Register a CIDR to the organisation (its security lead, or a national administrator)."""
    org = _writable(session, code, principal)
    try:
        cidr = orgs.add_network(
            session, org.code, body.cidr, body.description, actor=principal.as_actor()
        )
    except ConflictError as exc:
        raise _conflict(exc, principal, f"network {body.cidr}") from None
    return NetworkOut(cidr=cidr, description=body.description)


@router.post(
    "/{code}/hosts",
    summary="Register an internet-facing host of an organisation",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": Problem, "description": "The host is registered already"}},
)
def add_host(code: str, body: HostIn, session: SessionDep, principal: PrincipalDep) -> HostOut:
    """Register a host to the organisation (its security lead, or a national administrator)."""
    org = _writable(session, code, principal)
    try:
        orgs.add_host(
            session,
            org.code,
            orgs.Host(body.hostname, body.address, body.description),
            actor=principal.as_actor(),
        )
    except ConflictError as exc:
        raise _conflict(exc, principal, f"host {body.hostname}") from None
    return HostOut(hostname=body.hostname, address=body.address, description=body.description)
