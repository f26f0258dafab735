"""The console's behaviour pages: results best first, one result's evidence, the allow-list.

Built on the same functions as `/api/v1/behaviour`: a caller sees its scope's results
and entries; marking benign and editing the allow-list go through the audited service.
The interval and size histograms are SVG drawn by ``bastion.web.charts``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Query
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from bastion import behaviour
from bastion.core.timeutil import utcnow
from bastion.web.api import behaviour as api
from bastion.web.charts import category_bars
from bastion.web.console.view import View
from bastion.web.deps import PRINTABLE

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Behaviour = Annotated[View, Depends(View.of("behaviour"))]
Filter = Annotated[str, Query(max_length=32, pattern=PRINTABLE)]
IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
Reason = Annotated[str, Form(min_length=1, max_length=2000)]


def histogram_chart(histogram: dict[str, list[float]], *, title: str, unit: str) -> Markup | None:
    """Return a bar chart of a stored histogram (bins labelled by their lower edge)."""
    edges, counts = histogram.get("edges", []), histogram.get("counts", [])
    if not counts:
        return None
    labels = [f"{edge:,.0f}{unit}" for edge in edges[:-1]]
    return category_bars(labels, [float(c) for c in counts], title=title)


@router.get("/behaviour", name="behaviour_results_page")
def results_page(
    view: Behaviour,
    org: Filter = "",
    host: Annotated[str, Query(max_length=64, pattern=PRINTABLE)] = "",
    status: Annotated[Literal["", "open", "allowed", "benign"], Query()] = "open",
) -> HTMLResponse:
    """List results best first (federation-wide first), and the allow-list with its form."""
    principal = view.principal
    principal.require("behaviour:read")
    found, total = behaviour.list_results(
        view.session,
        view.scope,
        org=org or None,
        host=host or None,
        status=status or None,
        limit=500,
    )
    return view.render(
        "behaviour/results.html",
        results=found,
        total=total,
        org=org,
        host=host,
        status=status,
        allowed=behaviour.list_allowed(view.session, view.scope),
        may_write=principal.can("behaviour:write"),
        national=principal.can_nationally("behaviour:write"),
        kinds=behaviour.KINDS,
        default_expiry=utcnow().date() + timedelta(days=90),
    )


@router.get("/behaviour/results/{result_id}", name="behaviour_result_page")
def result_page(result_id: IdPath, view: Behaviour) -> HTMLResponse:
    """Show one result: its parts, histograms, first/last seen, sample lines, hunt link."""
    principal = view.principal
    result = behaviour.get_result(view.session, view.scope, result_id)
    principal.require("behaviour:read", result.org)
    proof: dict[str, Any] = result.evidence
    return view.render(
        "behaviour/result.html",
        result=result,
        intervals=histogram_chart(
            proof.get("intervals", {}), title="Time between connections", unit=" s"
        ),
        sizes=histogram_chart(proof.get("sizes", {}), title="Bytes sent", unit=" B"),
        samples=proof.get("samples", []),
        hunt=proof.get("hunt") if principal.can_nationally("hunt:read") else None,
        may_write=principal.can("behaviour:write", result.org),
        national=principal.can_nationally("behaviour:write"),
        default_expiry=utcnow().date() + timedelta(days=90),
    )


@router.post("/behaviour/results/{result_id}/benign", name="behaviour_result_benign")
def result_benign(
    result_id: IdPath,
    view: Behaviour,
    reason: Reason,
    expires_on: Annotated[date, Form()],
    national: Annotated[bool, Form()] = False,
) -> RedirectResponse:
    """Mark a result benign: what it was about joins the allow-list."""
    principal, scope = view.principal, view.scope
    result = behaviour.get_result(view.session, scope, result_id)
    principal.require("behaviour:write", result.org)
    if national:
        api.writable_org(principal, scope, None)  # national callers only
    behaviour.mark_benign(
        view.session, scope, result_id, reason=reason, expires_on=expires_on, national=national,
        actor=principal.as_actor(),
    )  # fmt: skip
    return view.redirect("behaviour_result_page", result_id=result_id)


@router.post("/behaviour/allow", name="behaviour_allow_add")
def allow_add(
    view: Behaviour,
    kind: Annotated[Literal["domain", "address", "fingerprint"], Form()],
    value: Annotated[str, Form(min_length=1, max_length=253, pattern=PRINTABLE)],
    reason: Reason,
    expires_on: Annotated[date, Form()],
    org: Annotated[str, Form(max_length=16, pattern=PRINTABLE)] = "",
) -> RedirectResponse:
    """Add an allow-list entry: an organisation's, or national (no organisation)."""
    code = api.writable_org(view.principal, view.scope, org)
    behaviour.add_allowed(
        view.session, view.scope, org=code, kind=kind, value=value, reason=reason,
        expires_on=expires_on, actor=view.principal.as_actor(),
    )  # fmt: skip
    return view.redirect("behaviour_results_page")


@router.post("/behaviour/allow/{entry_id}/delete", name="behaviour_allow_delete")
def allow_delete(entry_id: IdPath, view: Behaviour) -> RedirectResponse:
    """Remove an allow-list entry the caller may edit."""
    api.editable_entry(view.session, view.principal, view.scope, entry_id)
    behaviour.remove_allowed(view.session, view.scope, entry_id, actor=view.principal.as_actor())
    return view.redirect("behaviour_results_page")
