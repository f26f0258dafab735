"""The console's national cyber alert pages: the list, one alert, and the forms to act on it.

National analysts see every alert with the organisations it reached and a
publish button on drafts; a member sees the published alerts that reached its
organisations and its own responses, with forms to acknowledge, say whether it
applies, record an action and close. The forms post back here (CSRF token in a
hidden field, no script) and go through the same functions as the API.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from bastion import advisories as adv
from bastion.core.errors import InputError
from bastion.orgs import organisation_names
from bastion.web.api import advisories as api
from bastion.web.auth import PrincipalDep, require_national
from bastion.web.console.paging import Page, paging
from bastion.web.deps import PRINTABLE, SessionDep, TemplatesDep

PAGE_SIZE = 25
STEPS = ("acknowledge", "applicability", "action", "close")
# What the page confirms after each step (the organisations follow).
DONE = {
    "acknowledge": "Acknowledged",
    "applicability": "Applicability recorded",
    "action": "Action recorded",
    "close": "Response closed",
    "published": "Published and notified",
    "drafted": "Draft saved: check it, then publish it",
}
Done = Annotated[str, Query(max_length=32, pattern=r"^[a-z]*$")]
Codes = Annotated[str, Query(max_length=2000, pattern=r"^[A-Za-z0-9, ]*$")]

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/advisories", name="advisory_list")
def advisory_list(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    principal: PrincipalDep,
    page: Page = 1,
) -> HTMLResponse:
    """Show the national cyber alerts the caller may see, newest first, a page at a time."""
    principal.require("advisories:read")
    found, total = adv.visible_alerts(
        session, principal.scope, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return templates.TemplateResponse(
        request,
        "advisories/list.html",
        {
            "section": "advisories",
            "advisories": found,
            "may_draft": principal.can_nationally("advisories:write"),
            "severities": list(adv.AlertSeverity),
            **paging(
                request, page, total, len(found), size=PAGE_SIZE, params={}, number_first=True
            ),
        },
    )


@router.get("/advisories/{ref}", name="advisory_page")
def advisory_page(
    request: Request,
    ref: api.Ref,
    session: SessionDep,
    templates: TemplatesDep,
    principal: PrincipalDep,
    done: Done = "",
    orgs: Codes = "",
) -> HTMLResponse:
    """Show one alert: its content, every version, and the responses the caller may see."""
    alert = adv.visible_alert(session, ref, principal.scope)
    principal.require("advisories:read")
    responses = adv.visible_responses(session, alert.ref, principal.scope)
    national = principal.scope.national
    writable = {
        r.organisation
        for r in responses
        if r.status == "open" and principal.can("advisories:write", r.organisation)
    }
    return templates.TemplateResponse(
        request,
        "advisories/show.html",
        {
            "section": "advisories",
            "alert": alert,
            "responses": responses,
            "national": national,
            "writable": writable,
            "names": organisation_names(session, [r.organisation for r in responses]),
            # Acknowledging is offered only for what is not acknowledged yet.
            "unacknowledged": sorted(
                r.organisation
                for r in responses
                if r.organisation in writable and r.acknowledged_at is None
            ),
            "done": DONE.get(done),
            "done_orgs": [c for c in orgs.replace(" ", "").split(",") if c],
            "applicabilities": list(adv.Applicability),
            "may_publish": principal.can_nationally("advisories:write"),
            "targets": (
                adv.preview(session, alert.ref)
                if alert.status == "draft" and principal.can_nationally("advisories:write")
                else None
            ),
            "progress": adv.alert_progress(session, alert.ref) if national else None,
        },
    )


@router.post(
    "/advisories/{ref}/publish",
    name="advisory_publish",
    dependencies=[Depends(require_national("advisories:write"))],
)
def advisory_publish(
    request: Request, ref: api.Ref, session: SessionDep, principal: PrincipalDep
) -> RedirectResponse:
    """Publish the draft from its page, then show it."""
    report = adv.publish(
        session,
        ref,
        actor=principal.as_actor(),
        policy=api.policy(request),
        smtp=api.smtp_config(request),
    )
    path = request.url_for("advisory_page", ref=report.ref).path
    return RedirectResponse(f"{path}?done=published", status_code=303)


@router.post("/advisories/{ref}/respond", name="advisory_respond")
def advisory_respond(
    request: Request,
    ref: api.Ref,
    session: SessionDep,
    principal: PrincipalDep,
    step: Annotated[str, Form(max_length=32)],
    organisations: Annotated[list[str], Form(min_length=1, max_length=1000)],
    applicability: Annotated[str, Form(max_length=32)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    """Act for the organisations ticked: acknowledge, applicability, an action, or close."""
    if step not in STEPS:
        msg = f"unknown step {step!r}; choose one of {', '.join(STEPS)}"
        raise InputError(msg)
    codes = api.parse_organisations(organisations)
    if not codes:
        msg = "tick at least one organisation"
        raise InputError(msg)
    if step == "applicability" and not applicability.strip():
        msg = "choose whether the alert applies: applicable, not applicable or under investigation"
        raise InputError(msg)
    alert, codes = api.respondable(session, principal, ref, codes)
    if step == "acknowledge":
        adv.acknowledge(session, alert.ref, codes, actor=principal.as_actor())
    elif step == "applicability":
        adv.set_applicability(
            session, alert.ref, codes, applicability, actor=principal.as_actor(),
            policy=api.policy(request),
        )  # fmt: skip
    elif step == "action":
        adv.add_action(session, alert.ref, codes, description, actor=principal.as_actor())
    else:
        adv.close(session, alert.ref, codes, actor=principal.as_actor())
    path = request.url_for("advisory_page", ref=alert.ref).path
    query = urlencode({"done": step, "orgs": ",".join(codes)})
    return RedirectResponse(f"{path}?{query}#responses", status_code=303)


@router.post(
    "/advisories",
    name="advisory_draft",
    dependencies=[Depends(require_national("advisories:write"))],
)
def advisory_draft(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    title: Annotated[str, Form(min_length=1, max_length=300, pattern=PRINTABLE)],
    severity: Annotated[str, Form(max_length=16)],
    type: Annotated[str, Form(max_length=64, pattern=PRINTABLE)] = "vulnerability",
    summary: Annotated[str, Form(max_length=20_000)] = "",
    affected_products: Annotated[str, Form(max_length=20_000)] = "",
    threat_details: Annotated[str, Form(max_length=20_000)] = "",
    remediation: Annotated[str, Form(max_length=20_000)] = "",
    cves: Annotated[str, Form(max_length=4000)] = "",
    organisations: Annotated[str, Form(max_length=4000)] = "",
) -> RedirectResponse:
    """Draft a national alert from the list page's form, then show the draft to publish it."""
    content = adv.AlertContent(
        title=title,
        severity=adv.AlertSeverity.parse(severity),
        type=type.strip() or "vulnerability",
        summary=summary.strip(),
        affected_products=affected_products.strip(),
        threat_details=threat_details.strip(),
        remediation=remediation.strip(),
        cves=tuple(c for c in cves.replace(",", " ").split() if c),
    )
    codes = tuple(api.parse_organisations(organisations.replace(",", " ").split()))
    alert = adv.draft_alert(session, content, author=principal.as_actor(), organisations=codes)
    path = request.url_for("advisory_page", ref=alert.ref).path
    return RedirectResponse(f"{path}?done=drafted", status_code=303)
