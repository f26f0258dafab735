"""The console's scanning pages: an organisation's findings, one finding, the national dashboard.

Built on the same functions as `/api/v1/scan`: what a caller sees is its scope's;
a lead's "I fixed it" goes through ``scan.request_rescan`` (audited).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from bastion import scan
from bastion.web.charts import Series, day_bars, share_bar
from bastion.web.console.view import View
from bastion.web.deps import PRINTABLE

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Scan = Annotated[View, Depends(View.of("scan"))]
Filter = Annotated[str, Query(max_length=32, pattern=PRINTABLE)]


@router.get("/scan", name="scan_findings_page")
def findings_page(
    view: Scan, org: Filter = "", status: Filter = "", severity: Filter = ""
) -> HTMLResponse:
    """List findings (an organisation's, or every visible one), worst first, with the report."""
    view.principal.require("scan:read")
    scope = view.scope
    code = org.strip().upper() or (scope.codes[0] if scope.codes and len(scope.codes) == 1 else "")
    found, total = scan.list_findings(
        view.session,
        scope,
        org=code or None,
        status=status or None,
        severity=severity or None,
        limit=500,
    )
    return view.render(
        "scan/findings.html",
        findings=found,
        total=total,
        org=code,
        status=status,
        severity=severity,
        report=scan.organisation_report(view.session, scope, code) if code else None,
        statuses=[s.value for s in scan.Status],
    )


@router.get("/scan/findings/{finding_id}", name="scan_finding_page")
def finding_page(finding_id: int, view: Scan) -> HTMLResponse:
    """Show one finding: what was sent, what came back, and how to fix it."""
    finding = scan.get_finding(view.session, view.scope, finding_id)
    view.principal.require("scan:read", finding.org)
    return view.render(
        "scan/finding.html",
        finding=finding,
        remediation=scan.remediation_text(finding),
        may_rescan=view.principal.can("scan:write", finding.org)
        and finding.status in (scan.Status.OPEN, scan.Status.FIXED_UNCONFIRMED),
    )


@router.post("/scan/findings/{finding_id}/rescan", name="scan_finding_rescan")
def finding_rescan(finding_id: int, view: Scan) -> RedirectResponse:
    """Take "I fixed it": the finding waits for a confirming rescan."""
    finding = scan.get_finding(view.session, view.scope, finding_id)
    view.principal.require("scan:write", finding.org)
    scan.request_rescan(view.session, view.scope, finding_id, actor=view.principal.as_actor())
    return view.redirect("scan_finding_page", finding_id=finding_id)


@router.get("/scan/national", name="scan_national_page")
def national_page(view: Scan) -> HTMLResponse:
    """Show live findings by type, severity and region, and the worst hosts (in scope)."""
    view.principal.require("scan:read")
    summary = scan.national_summary(view.session, view.scope)
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

    return view.render(
        "scan/national.html",
        summary=summary,
        by_check=bars(summary["by_check"]),
        by_severity=bars(summary["by_severity"]),
        by_region=bars(summary["by_region"]),
        trend_chart=chart,
        severities=list(trend[0]["opened"]) if trend else [],
    )
