"""The console's inventories and exposures: on each organisation's page, and federation-wide.

An organisation's page shows its inventories (components, last import) with a
form to upload an SBOM, and its exposures with the national alert that cites
each, the matching component and version, and the VEX state. `/exposures`
lists the exposures the caller may see by advisory and vulnerability, and by
organisation: a national role sees the federation's, a member its own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from bastion import advisories as adv
from bastion import orgs
from bastion.auth import Principal
from bastion.web.api import holdings as api
from bastion.web.console.view import View
from bastion.web.deps import PRINTABLE

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Exposures = Annotated[View, Depends(View.of("exposures"))]

# Rows of an organisation's exposure table; the API and CLI list the rest.
EXPOSURES_SHOWN = 200


def organisation_holdings(session: Session, principal: Principal, code: str) -> dict[str, Any]:
    """What an organisation's page shows of its inventories and exposures (``code`` is visible)."""
    if not principal.can("advisories:read", code):
        return {"holdings_readable": False}
    exposures = adv.list_exposures(session, org=code, status=None)
    citing = api.citing_advisories(session, principal.scope)
    exposures.sort(key=lambda e: (e.status != "affected", e.vulnerability, e.component))
    return {
        "holdings_readable": True,
        "inventories": adv.list_inventories(session, code),
        "exposures": [(e, api.advisories_of(e, citing)) for e in exposures[:EXPOSURES_SHOWN]],
        "exposure_total": len(exposures),
        "affected_total": sum(1 for e in exposures if e.status == "affected"),
        "may_upload": principal.can("advisories:write", code),
    }


@router.post("/orgs/{code}/inventories", name="inventory_upload")
async def inventory_upload(
    code: str,
    view: Exposures,
    file: Annotated[UploadFile, File()],
    name: Annotated[str, Form(max_length=300, pattern=PRINTABLE)] = "",
) -> RedirectResponse:
    """Import an uploaded SBOM for the organisation, then show its page at its inventories."""
    content, filename = await api.read_sbom(file)
    report = api.upload(view.session, view.principal, code, content, name.strip() or filename)
    return view.redirect(
        "org_page", f"?imported={report.exposures}#inventories", code=report.organisation
    )


@dataclass
class ByVulnerability:
    vulnerability: str
    severity: str | None
    kev: bool
    advisories: list[str]
    organisations: set[str] = field(default_factory=set)
    components: set[str] = field(default_factory=set)


@dataclass
class ByOrganisation:
    code: str
    name: str = ""
    vulnerabilities: set[str] = field(default_factory=set)
    exposures: int = 0
    advisories: set[str] = field(default_factory=set)


_SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "moderate": 2, "low": 3}


@router.get("/exposures", name="exposure_list")
def exposure_list(view: Exposures) -> HTMLResponse:
    """Show the affected exposures the caller may see, by vulnerability and by organisation."""
    view.principal.require("advisories:read")
    session, scope = view.session, view.scope
    found = adv.list_exposures(session, status="affected", codes=scope.codes)
    citing = api.citing_advisories(session, scope)
    by_vuln: dict[str, ByVulnerability] = {}
    by_org: dict[str, ByOrganisation] = defaultdict(lambda: ByOrganisation(""))
    for e in found:  # exposures, not events: thousands at most
        refs = api.advisories_of(e, citing)
        v = by_vuln.setdefault(
            e.vulnerability, ByVulnerability(e.vulnerability, e.severity, e.kev, refs)
        )
        v.organisations.add(e.organisation)
        v.components.add(f"{e.component} {e.version}")
        o = by_org[e.organisation]
        o.code = e.organisation
        o.vulnerabilities.add(e.vulnerability)
        o.exposures += 1
        o.advisories.update(refs)
    names = (
        {o.code: o.name for o in orgs.list_organisations(session, codes=sorted(by_org))[0]}
        if by_org
        else {}
    )
    for o in by_org.values():
        o.name = names.get(o.code, "")
    vulns = sorted(
        by_vuln.values(),
        key=lambda v: (
            not v.advisories,
            _SEVERITY_RANK.get(v.severity or "", 9),
            -len(v.organisations),
        ),
    )
    organisations = sorted(by_org.values(), key=lambda o: (-len(o.vulnerabilities), o.code))
    return view.render(
        "exposures.html",
        vulnerabilities=vulns,
        organisations=organisations,
        total=len(found),
        national=scope.national,
    )
