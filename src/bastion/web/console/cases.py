"""The console's case pages: the list, one case with its actions, campaigns and response times.

Forms post back here (CSRF token in a hidden field, no script needed) and go
through ``bastion.cases`` as the API does: visibility first (another
organisation's case is 404), then the role at the case's organisations (403).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from bastion import cases
from bastion.core.errors import InputError
from bastion.web.api.cases import CaseId, NotifierDep, store_upload, writable
from bastion.web.charts import Series, day_bars, share_bar
from bastion.web.console.paging import Page, paging
from bastion.web.console.view import View
from bastion.web.deps import SettingsDep

PAGE_SIZE = 50
ORG_PAGE_SIZE = 50  # organisations a page of response times shows
STEPS = (
    *("status", "assign", "note", "task", "task_status", "observable", "alert", "clock"),
    *("advisory", "health", "merge", "tags", "techniques", "evidence"),
)

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Cases = Annotated[View, Depends(View.of("cases"))]
Field = Annotated[str, Form(max_length=20_000)]


def _choice(value: str) -> str | None:
    return value.strip() or None


def countdown(seconds: int) -> str:
    """Return time left as ``2 d 3 h``, ``5 h 12 min`` or ``overdue by 1 h 4 min``."""
    late, left = seconds < 0, abs(seconds)
    days, hours, minutes = left // 86400, left % 86400 // 3600, left % 3600 // 60
    text = f"{days} d {hours} h" if days else f"{hours} h {minutes} min"
    return f"overdue by {text}" if late else f"{text} left"


@router.get("/cases", name="case_list")
def case_list(
    view: Cases,
    settings: SettingsDep,
    status: Annotated[str, Query(max_length=16)] = "",
    severity: Annotated[str, Query(max_length=16)] = "",
    search: Annotated[str, Query(max_length=200)] = "",
    page: Page = 1,
) -> HTMLResponse:
    """Show the cases the caller may see, newest first, with a form to open one."""
    principal, scope = view.principal, view.scope
    principal.require("cases:read")
    found, total = cases.list_cases(
        view.session, scope, status=_choice(status), severity=_choice(severity),
        search=_choice(search), policy=cases.clock_policy(settings), limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    filters = {"status": status, "severity": severity, "search": search}
    writable_orgs = sorted(o for o in (scope.codes or []) if principal.can("cases:write", o))
    return view.render(
        "cases/list.html",
        cases=found,
        **paging(view.request, page, total, len(found), size=PAGE_SIZE, params=filters),
        filters=filters,
        severities=list(cases.CaseSeverity), templates=list(cases.TEMPLATES),
        status_options={s.value: s.value.replace("_", "-") for s in cases.CaseStatus},
        severity_options={s.value: s.value for s in cases.CaseSeverity}, writable_orgs=writable_orgs,
        may_create=principal.can("cases:write"), national=scope.national, countdown=countdown,
    )  # fmt: skip


@router.post("/cases", name="case_create")
def case_create(
    view: Cases,
    notify: NotifierDep,
    title: Annotated[str, Form(max_length=300)],
    organisations: Annotated[str, Form(max_length=500)] = "",
    alert_id: Annotated[str, Form(max_length=12)] = "",
    severity: Annotated[str, Form(max_length=16)] = "medium",
    template: Annotated[str, Form(max_length=100)] = "",
    personal_data: Annotated[str, Form(max_length=8)] = "",
) -> RedirectResponse:
    """Open a case from the list's form (organisations, or an alert to promote); show it."""
    session, principal = view.session, view.principal
    actor, scope = principal.as_actor(), view.scope
    if alert_id.strip():
        if not alert_id.strip().isdigit():
            msg = f"invalid alert id {alert_id!r}: a number"
            raise InputError(msg)
        org = cases.alert_organisation(session, int(alert_id), scope)
        principal.require("cases:write", org)
        made = cases.promote_alert(
            session, int(alert_id), title=_choice(title), template=_choice(template),
            actor=actor, scope=scope, notifier=notify,
        )  # fmt: skip
    else:
        codes = tuple(c for c in organisations.replace(",", " ").split() if c)
        for code in codes:
            if scope.allows(code):
                principal.require("cases:write", code)
        draft = cases.CaseDraft(
            title=title, organisations=codes, severity=severity, template=_choice(template),
            personal_data=personal_data == "on",
        )  # fmt: skip
        made = cases.create_case(session, draft, actor=actor, scope=scope, notifier=notify)
    return view.redirect("case_page", case_id=made.id)


@router.get("/cases/campaigns", name="case_campaigns")
def case_campaigns(
    view: Cases,
    kind: Annotated[str, Query(max_length=16)] = "",
    value: Annotated[str, Query(max_length=2000)] = "",
    page: Page = 1,
) -> HTMLResponse:
    """Show the observables several organisations share, in the most organisations first a
    page at a time, or who one observable touches."""
    session, scope = view.session, view.scope
    one = cases.campaign(session, scope, kind, value) if kind and value else None
    view.principal.require("cases:read")  # after the lookup: another tenant's campaign is 404 first
    found = [] if one else cases.campaigns(
        session, scope, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )  # fmt: skip
    total = 0 if one else cases.count_campaigns(session, scope)
    return view.render(
        "cases/campaigns.html",
        campaign=one,
        national=scope.national,
        campaigns=found,
        **paging(view.request, page, total, len(found), size=PAGE_SIZE, params={}),
    )


@router.get("/cases/stats", name="case_stats")
def case_stats(
    view: Cases,
    settings: SettingsDep,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    page: Page = 1,
) -> HTMLResponse:
    """Show MTTA and MTTR over the last ``days`` days, charted per day, and open cases by age:
    nationally and per severity, then the organisations with the most cases first, a page
    of ORG_PAGE_SIZE at a time (a national period has thousands)."""
    from datetime import timedelta

    view.principal.require("cases:read")
    now = datetime.now(UTC)
    since = now - timedelta(days=days)
    found = cases.case_stats(
        view.session, view.scope, since=since, now=now, settings=settings,
        organisations=((page - 1) * ORG_PAGE_SIZE, ORG_PAGE_SIZE),
    )  # fmt: skip
    hours: Callable[[float | None], int] = lambda s: 0 if s is None else round(s / 3600)  # noqa: E731
    dates = [d.day for d in found.days]
    charts = {
        "volume": day_bars(
            dates,
            [Series("Opened", "bar-events", [d.opened for d in found.days]),
             Series("Closed", "bar-blocked", [d.closed for d in found.days])],
            title="Cases opened and closed per day",
        ),
        "times": day_bars(
            dates,
            [Series("MTTA (hours)", "bar-events", [hours(d.mtta_seconds) for d in found.days]),
             Series("MTTR (hours)", "bar-alerts", [hours(d.mttr_seconds) for d in found.days])],
            title="Mean time to acknowledge and to resolve, hours, by day opened",
        ),
    }  # fmt: skip
    peak = max(found.open_by_age.values(), default=0)
    return view.render(
        "cases/stats.html",
        stats=found,
        organisations=found.by_organisation,
        **paging(
            view.request,
            page,
            found.organisations,
            len(found.by_organisation),
            size=ORG_PAGE_SIZE,
            params={"days": str(days)},
        ),
        charts=charts,
        days=days,
        ages=[(k, v, share_bar(v, peak)) for k, v in found.open_by_age.items()],
        duration=_duration,
    )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


@router.get("/cases/{case_id}", name="case_page")
def case_page(case_id: CaseId, view: Cases, settings: SettingsDep) -> HTMLResponse:
    """Show one case: facts, clocks, timeline, observables, tasks, and its actions."""
    principal = view.principal
    found = cases.get_case(
        view.session, case_id, view.scope, policy=cases.clock_policy(settings)
    )  # another tenant's case: 404 before 403
    principal.require("cases:read")
    return view.render(
        "cases/show.html",
        case=found,
        may_write=any(principal.can("cases:write", o) for o in found.organisations),
        national=view.scope.national,
        statuses=[s for s in cases.CaseStatus if s is not found.status],
        task_statuses=list(cases.TaskStatus),
        kinds=list(cases.ObservableKind),
        impacts=list(cases.PatientImpact),
        countdown=countdown,
    )


@router.post("/cases/{case_id}/attach", name="case_attach")
async def case_attach(
    case_id: CaseId, view: Cases, settings: SettingsDep, file: Annotated[UploadFile, File()]
) -> RedirectResponse:
    """Attach an uploaded file to the case (stored once by its SHA-256), from its page."""
    await store_upload(view.session, view.principal, settings, case_id, file)
    return view.redirect("case_page", "#timeline", case_id=case_id)


@router.post("/cases/{case_id}/act", name="case_act")
def case_act(
    case_id: CaseId,
    view: Cases,
    notify: NotifierDep,
    settings: SettingsDep,
    step: Annotated[str, Form(max_length=32)],
    value: Field = "",
    detail: Field = "",
    item: Annotated[str, Form(max_length=12)] = "",
    downtime: Annotated[str, Form(max_length=8)] = "",
) -> RedirectResponse:
    """Do one thing to the case from its page: ``step`` says what, ``value``/``detail`` with what."""
    if step not in STEPS:
        msg = f"unknown step {step!r}; choose one of {', '.join(STEPS)}"
        raise InputError(msg)
    session, principal = view.session, view.principal
    current = writable(session, principal, case_id)
    kw: dict[str, Any] = {"actor": principal.as_actor(), "scope": view.scope}
    number = int(value) if value.strip().isdigit() else 0
    if step in {"alert", "task_status", "merge"} and not (number or item.strip().isdigit()):
        msg = "name the alert, task or case by its number"
        raise InputError(msg)
    if step == "status":
        cases.set_status(session, case_id, value, resolution=detail, **kw)
    elif step == "assign":
        cases.assign(session, case_id, value.strip() or None, notifier=notify, **kw)
    elif step == "note":
        cases.add_note(session, case_id, value, **kw)
    elif step == "task":
        cases.add_task(session, case_id, value, **kw)
    elif step == "task_status":
        cases.set_task(session, case_id, int(item), status=value, **kw)
    elif step == "observable":
        cases.add_observable(session, case_id, detail, value, **kw)
    elif step == "alert":
        cases.merge_alert(session, case_id, number, **kw)
    elif step == "merge":
        writable(session, principal, number)  # the other case: visible (404) and workable (403)
        cases.merge_cases(session, case_id, number, **kw)
    elif step == "clock":
        cases.report_clock(session, case_id, value, **kw)
    elif step in {"tags", "techniques"}:
        listed = [t.strip() for t in value.split(",") if t.strip()]
        cases.update_case(session, case_id, {step: listed}, **kw)
    elif step == "evidence":
        cases.add_evidence(session, case_id, settings.archive_dir, value, **kw)
    elif step == "health":
        since = (current.downtime_since or datetime.now(UTC)) if downtime == "on" else None
        systems = [s.strip() for s in detail.split(",") if s.strip()]
        changes = {"patient_impact": value, "clinical_systems": systems, "downtime_since": since}
        cases.update_case(session, case_id, changes, **kw)
    else:
        cases.link_advisory(session, case_id, value, **kw)
    anchor = {"task_status": "tasks", "task": "tasks", "observable": "observables"}.get(
        step, "timeline"
    )
    return view.redirect("case_page", f"#{anchor}", case_id=case_id)
