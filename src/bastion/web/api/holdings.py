"""`/api/v1/inventories` and `/api/v1/exposures`: what organisations run and what affects it.

An inventory (a CycloneDX or SPDX SBOM, a CSV or OpenVEX document) belongs to one
organisation; its components are matched against the vulnerability records, and
each match is an exposure with the VEX state the organisation declared. A member
sees its own organisations' inventories and exposures, a national role every
organisation's; another organisation's inventory answers 404, exactly as one
that does not exist. Uploading an SBOM goes through the advisories service,
which records it in the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, UploadFile, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bastion import advisories as adv
from bastion.advisories.inventory import Component
from bastion.auth import Principal, Scope
from bastion.core.errors import InputError, Location, NotFoundError
from bastion.web.api.org_models import Code
from bastion.web.auth import PrincipalDep
from bastion.web.deps import PRINTABLE, SessionDep, find_organisation

MAX_SBOM = 16 * 1024 * 1024  # an SBOM larger than this is refused, not read
STATUSES = ("affected", "not_affected", "fixed", "under_investigation", "all")

router = APIRouter(tags=["inventories"])

OrgCode = Annotated[str, Path(max_length=16, description="the organisation's code")]
InventoryName = Annotated[
    str, Path(min_length=1, max_length=300, pattern=PRINTABLE, description="the inventory's name")
]
VulnId = Annotated[
    str,
    Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$", description="a CVE or GHSA id"),
]


class InventoryDetail(BaseModel):
    inventory: adv.InventorySummary
    components: list[Component] = Field(description="every component, by name")


class ImportOut(BaseModel):
    organisation: str
    inventory: str
    format: str
    spec_version: str
    components: int
    rejected: list[dict[str, object]]
    vex_statements: int
    exposures: int


@dataclass(frozen=True)
class ExposureOut(adv.Exposure):
    """An exposure, with the national alerts visible to the caller that cite its vulnerability."""

    advisories: tuple[str, ...] = ()


class VulnerabilityExposures(BaseModel):
    vulnerability: str
    aliases: list[str]
    summary: str
    severity: str | None
    advisories: list[str]
    exposures: list[ExposureOut]


def readable(principal: Principal) -> None:
    principal.require("advisories:read")


def citing_advisories(session: Session, scope: Scope) -> dict[str, list[str]]:
    """Map each vulnerability id to the refs of the national alerts ``scope`` sees citing it."""
    found, _ = adv.visible_alerts(session, scope, limit=500)
    citing: dict[str, list[str]] = {}
    for alert in found:
        for cve in alert.content.cves:
            citing.setdefault(cve.upper(), []).append(alert.ref)
    return citing


def advisories_of(exposure: adv.Exposure, citing: dict[str, list[str]]) -> list[str]:
    """Return the refs of the alerts that cite the exposure's vulnerability by any of its ids."""
    refs = [
        ref
        for i in (exposure.vulnerability, *exposure.aliases)
        for ref in citing.get(i.upper(), [])
    ]
    return sorted(set(refs))


def exposure_out(exposure: adv.Exposure, citing: dict[str, list[str]]) -> ExposureOut:
    return ExposureOut(**vars(exposure), advisories=tuple(advisories_of(exposure, citing)))


def scoped_exposures(
    session: Session,
    scope: Scope,
    *,
    org: str | None = None,
    vulnerability: str | None = None,
    status: str = "affected",
) -> Sequence[adv.Exposure]:
    """Return the exposures ``scope`` may see, filtered; an organisation outside it is 404."""
    if status not in STATUSES:
        msg = f"unknown status {status!r}; choose one of {', '.join(STATUSES)}"
        raise InputError(msg, Location(field="status"))
    code = find_organisation(session, org, scope).code if org else None
    return adv.list_exposures(
        session,
        org=code,
        vulnerability=vulnerability,
        status=None if status == "all" else status,
        codes=scope.codes,
    )


@router.get("/inventories", summary="List inventories")
def list_inventories(
    session: SessionDep,
    principal: PrincipalDep,
    org: Annotated[Code | None, Query(description="only this organisation's")] = None,
) -> list[adv.InventorySummary]:
    """List the inventories of the organisations the caller may see, by organisation and name."""
    readable(principal)
    code = find_organisation(session, org, principal.scope).code if org else None
    return adv.list_inventories(session, code, principal.scope.codes)


@router.get("/inventories/{code}/{name}", summary="Get an inventory with its components")
def get_inventory(
    session: SessionDep, principal: PrincipalDep, code: OrgCode, name: InventoryName
) -> InventoryDetail:
    """Return one organisation's inventory and every component in it."""
    org = find_organisation(session, code, principal.scope)  # visibility first: 404, then 403
    readable(principal)
    held = [i for i in adv.list_inventories(session, org.code) if i.name == name]
    if not held:
        msg = f"no inventory {name!r} of {org.code}"
        raise NotFoundError(msg)
    return InventoryDetail(
        inventory=held[0], components=adv.inventory_components(session, org.code, name)
    )


async def read_sbom(file: UploadFile) -> tuple[bytes, str]:
    """Return an uploaded SBOM's bytes and safe file name; refuse one that is too large."""
    content = await file.read(MAX_SBOM + 1)
    if len(content) > MAX_SBOM:
        msg = f"the file is larger than {MAX_SBOM // (1024 * 1024)} MiB"
        raise InputError(msg, Location(field="file"))
    return content, PurePath(file.filename or "upload").name or "upload"


def upload(
    session: Session, principal: Principal, code: str, content: bytes, name: str
) -> adv.exposure.InventoryReport:
    """Import an SBOM for ``code`` as the caller: 404 outside its scope, 403 without write."""
    org = find_organisation(session, code, principal.scope)
    principal.require("advisories:write", org.code)
    return adv.import_inventory(session, org.code, content, name, actor=principal.as_actor())


@router.post(
    "/inventories/{code}",
    summary="Upload an SBOM or VEX document",
    status_code=status.HTTP_201_CREATED,
)
async def upload_inventory(
    session: SessionDep,
    principal: PrincipalDep,
    code: OrgCode,
    file: Annotated[UploadFile, File(description="CycloneDX JSON/XML, SPDX JSON, OpenVEX or CSV")],
    name: Annotated[str, Form(max_length=300, pattern=PRINTABLE)] = "",
) -> ImportOut:
    """Store the organisation's inventory (replacing one of the same name) and match it."""
    content, filename = await read_sbom(file)
    report = upload(session, principal, code, content, name.strip() or filename)
    return ImportOut(**report.__dict__)


@router.get("/exposures", summary="List exposures")
def list_exposures(
    session: SessionDep,
    principal: PrincipalDep,
    org: Annotated[Code | None, Query(description="only this organisation")] = None,
    vulnerability: Annotated[
        str | None, Query(max_length=64, pattern=PRINTABLE, description="a CVE or GHSA id")
    ] = None,
    status: Annotated[
        str, Query(max_length=32, description=f"VEX state: {', '.join(STATUSES)}")
    ] = "affected",
) -> list[ExposureOut]:
    """List the exposures of the organisations the caller may see."""
    readable(principal)
    found = scoped_exposures(
        session, principal.scope, org=org, vulnerability=vulnerability, status=status
    )
    citing = citing_advisories(session, principal.scope)
    return [exposure_out(e, citing) for e in found]


@router.get("/exposures/{vulnerability}", summary="Get a vulnerability and its exposures")
def get_exposures(
    session: SessionDep, principal: PrincipalDep, vulnerability: VulnId
) -> VulnerabilityExposures:
    """Return a vulnerability and the caller's organisations it affects, in any VEX state."""
    readable(principal)
    vuln = adv.get_vulnerability(session, vulnerability)
    found = scoped_exposures(session, principal.scope, vulnerability=vulnerability, status="all")
    citing = citing_advisories(session, principal.scope)
    ids = {vuln.key.upper(), *(a.upper() for a in vuln.aliases)}
    return VulnerabilityExposures(
        vulnerability=vuln.key,
        aliases=sorted(set(vuln.aliases) - {vuln.key}),
        summary=vuln.summary,
        severity=vuln.severity,
        advisories=sorted({r for i in ids for r in citing.get(i, [])}),
        exposures=[exposure_out(e, citing) for e in found],
    )
