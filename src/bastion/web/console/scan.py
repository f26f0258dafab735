"""The console's scanning pages: an organisation's findings, one finding, the national dashboard.

Built on the same functions as `/api/v1/scan`: what a caller sees is its scope's;
a lead's "I fixed it" goes through ``scan.request_rescan`` (audited).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from bastion import scan
from bastion.web.auth import PrincipalDep, ScopeDep
from bastion.web.charts import Series, day_bars, share_bar
from bastion.web.deps import PRINTABLE, SessionDep, TemplatesDep

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Filter = Annotated[str, Query(max_length=32, pattern=PRINTABLE)]


@router.get("/scan", name="scan_findings_page")
def findings_page(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    principal: PrincipalDep,
    scope: ScopeDep,
    org: Filter = "",
    status: Filter = "",
    severity: Filter = "",
) -> HTMLResponse:
    """List findings (an organisation's, or every visible one), worst first, with the report."""
    principal.require("scan:read")
    code = org.strip().upper() or (scope.codes[0] if scope.codes and len(scope.codes) == 1 else "")
    found, total = scan.list_findings(
        session,
        scope,
        org=code or None,
        status=status or None,
        severity=severity or None,
        limit=500,
    )
    report = scan.organisation_report(session, scope, code) if code else None
    return templates.TemplateResponse(
        request,
        "scan/findings.html",
        {
            "section": "scan",
            "findings": found,
            "total": total,
            "org": code,
            "status": status,
            "severity": severity,
            "report": report,
            "statuses": [s.value for s in scan.Status],
        },
    )


@router.get("/scan/findings/{finding_id}", name="scan_finding_page")
def finding_page(
    finding_id: int,
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    principal: PrincipalDep,
    scope: ScopeDep,
) -> HTMLResponse:
    """Show one finding: what was sent, what came back, and how to fix it."""
    finding = scan.get_finding(session, scope, finding_id)
    principal.require("scan:read", finding.org)
    return templates.TemplateResponse(
        request,
        "scan/finding.html",
        {
            "section": "scan",
            "finding": finding,
            "remediation": scan.remediation_text(finding),
            "may_rescan": principal.can("scan:write", finding.org)
            and finding.status in (scan.Status.OPEN, scan.Status.FIXED_UNCONFIRMED),
        },
    )


@router.post("/scan/findings/{finding_id}/rescan", name="scan_finding_rescan")
def finding_rescan(
    finding_id: int, request: Request, session: SessionDep, principal: PrincipalDep, scope: ScopeDep
) -> RedirectResponse:
    """Take "I fixed it": the finding waits for a confirming rescan."""
    finding = scan.get_finding(session, scope, finding_id)
    principal.require("scan:write", finding.org)
    scan.request_rescan(session, scope, finding_id, actor=principal.as_actor())
    target = request.url_for("scan_finding_page", finding_id=finding_id).path
    return RedirectResponse(target, status_code=303)


@router.get("/scan/national", name="scan_national_page")
def national_page(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    principal: PrincipalDep,
    scope: ScopeDep,
) -> HTMLResponse:
    """Show live findings by type, severity and region, and the worst hosts (in scope)."""
    principal.require("scan:read")
    summary = scan.national_summary(session, scope)
    trend = summary["trend"]
    chart = day_bars(
        [date.fromisoformat(w["week"]) for w in trend],
        [
            Series("Opened", "bar-alerts", [sum(w["opened"].values()) for w in trend]),
            Series("Closed", "bar-events", [sum(w["closed"].values()) for w in trend]),
        ],
        title="Findings opened and closed per week",
    )

    def bars(counts: dict[str, int]) -> list[tuple[str, int, str]]:
        peak = max(counts.values(), default=0)
        return [(k, n, share_bar(n, peak)) for k, n in counts.items()]

    return templates.TemplateResponse(
        request,
        "scan/national.html",
        {
            "section": "scan",
            "summary": summary,
            "by_check": bars(summary["by_check"]),
            "by_severity": bars(summary["by_severity"]),
            "by_region": bars(summary["by_region"]),
            "trend_chart": chart,
            "severities": list(trend[0]["opened"]) if trend else [],
        },
    )
