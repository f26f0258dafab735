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

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from bastion import advisories as adv
from bastion.core.errors import InputError
from bastion.orgs import organisation_names
from bastion.web.api import advisories as api
from bastion.web.auth import require_national
from bastion.web.console.paging import Page, paging
from bastion.web.console.view import View
from bastion.web.deps import PRINTABLE

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
Advisories = Annotated[View, Depends(View.of("advisories"))]


@router.get("/advisories", name="advisory_list")
def advisory_list(view: Advisories, page: Page = 1) -> HTMLResponse:
    """Show the national cyber alerts the caller may see, newest first, a page at a time."""
    view.principal.require("advisories:read")
    found, total = adv.visible_alerts(
        view.session, view.scope, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return view.render(
        "advisories/list.html",
        advisories=found,
        may_draft=view.principal.can_nationally("advisories:write"),
        severities=list(adv.AlertSeverity),
        **paging(
            view.request, page, total, len(found), size=PAGE_SIZE, params={}, number_first=True
        ),
    )


@router.get("/advisories/{ref}", name="advisory_page")
def advisory_page(
    ref: api.Ref, view: Advisories, done: Done = "", orgs: Codes = ""
) -> HTMLResponse:
    """Show one alert: its content, every version, and the responses the caller may see."""
    session, principal = view.session, view.principal
    alert = adv.visible_alert(session, ref, view.scope)
    principal.require("advisories:read")
    responses = adv.visible_responses(session, alert.ref, view.scope)
    national = view.scope.national
    writable = {
        r.organisation
        for r in responses
        if r.status == "open" and principal.can("advisories:write", r.organisation)
    }
    return view.render(
        "advisories/show.html",
        alert=alert,
        responses=responses,
        national=national,
        writable=writable,
        names=organisation_names(session, [r.organisation for r in responses]),
        # Acknowledging is offered only for what is not acknowledged yet.
        unacknowledged=sorted(
            r.organisation
            for r in responses
            if r.organisation in writable and r.acknowledged_at is None
        ),
        done=DONE.get(done),
        done_orgs=[c for c in orgs.replace(" ", "").split(",") if c],
        applicabilities=list(adv.Applicability),
        may_publish=principal.can_nationally("advisories:write"),
        targets=(
            adv.preview(session, alert.ref)
            if alert.status == "draft" and principal.can_nationally("advisories:write")
            else None
        ),
        progress=adv.alert_progress(session, alert.ref) if national else None,
    )


@router.post(
    "/advisories/{ref}/publish",
    name="advisory_publish",
    dependencies=[Depends(require_national("advisories:write"))],
)
def advisory_publish(ref: api.Ref, view: Advisories) -> RedirectResponse:
    """Publish the draft from its page, then show it."""
    report = adv.publish(
        view.session,
        ref,
        actor=view.principal.as_actor(),
        policy=api.policy(view.request),
        smtp=api.smtp_config(view.request),
    )
    return view.redirect("advisory_page", "?done=published", ref=report.ref)


@router.post("/advisories/{ref}/respond", name="advisory_respond")
def advisory_respond(
    ref: api.Ref,
    view: Advisories,
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
    session, actor = view.session, view.principal.as_actor()
    alert, codes = api.respondable(session, view.principal, ref, codes)
    if step == "acknowledge":
        adv.acknowledge(session, alert.ref, codes, actor=actor)
    elif step == "applicability":
        adv.set_applicability(
            session, alert.ref, codes, applicability, actor=actor, policy=api.policy(view.request)
        )
    elif step == "action":
        adv.add_action(session, alert.ref, codes, description, actor=actor)
    else:
        adv.close(session, alert.ref, codes, actor=actor)
    query = urlencode({"done": step, "orgs": ",".join(codes)})
    return view.redirect("advisory_page", f"?{query}#responses", ref=alert.ref)


@router.post(
    "/advisories",
    name="advisory_draft",
    dependencies=[Depends(require_national("advisories:write"))],
)
def advisory_draft(
    view: Advisories,
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
    alert = adv.draft_alert(
        view.session, content, author=view.principal.as_actor(), organisations=codes
    )
    return view.redirect("advisory_page", "?done=drafted", ref=alert.ref)
