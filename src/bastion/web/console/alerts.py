"""The console's alert pages: the national list, one alert, and an organisation's recent alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from bastion import orgs
from bastion.alerts import (
    Alert,
    AlertFilter,
    Resolution,
    TriageState,
    Verdict,
    get_alert,
    list_alerts,
    triage,
)
from bastion.alerts import alert_page as queue_page
from bastion.core.errors import InputError, NotFoundError
from bastion.core.scope import Scope
from bastion.core.types import Severity, org_code
from bastion.web.api.alerts import AlertId, AlertScope
from bastion.web.console.paging import Page, paging
from bastion.web.console.view import View
from bastion.web.deps import find_organisation

PAGE_SIZE = 50
SORTS = {
    "last_seen": "Last seen",
    "first_seen": "First seen",
    "severity": "Severity",
    "count": "Events",
    "state": "Triage state",
}
RESOLUTIONS = {r.value: r.value.replace("_", " ").capitalize() for r in Resolution}
HUNT_AROUND = timedelta(hours=1)
# Alerts listed on an organisation's page; the rest are one click away in the filtered list.
RECENT_SHOWN = 10

Choice = TypeVar("Choice", bound=StrEnum)

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Alerts = Annotated[View, Depends(View.of("alerts"))]


def _choice(kind: type[Choice], value: str, what: str) -> Choice | None:
    """Parse a filter naming one member of ``kind`` (any case); empty means any."""
    if not value:
        return None
    try:
        return kind(value.strip().lower())
    except ValueError:
        choices = ", ".join(k.value for k in kind)
        msg = f"unknown {what} {value!r}; choose one of {choices}, or leave it empty"
        raise InputError(msg) from None


def _known_organisations(session: Session, codes: Sequence[str | None], scope: Scope) -> set[str]:
    """Return which of ``codes`` are in the federation and visible (those pages get a link)."""
    wanted = {c for c in codes if c and scope.allows(c)}
    return set(orgs.organisation_ids(session, wanted)) if wanted else set()


def recent_alerts(
    session: Session, code: str, *, scope: Sequence[str] | None = None
) -> dict[str, Any]:
    """Return what an organisation's page shows of its alerts: the most recent and how many."""
    found, total = list_alerts(session, org=code, orgs=scope, limit=RECENT_SHOWN)
    return {"recent_alerts": found, "alert_total": total}


@router.get("/alerts", name="alert_list")
def alert_list(
    view: Alerts,
    scope: AlertScope,
    org: Annotated[str, Query(max_length=16)] = "",
    verdict: Annotated[str, Query(max_length=16)] = "",
    state: Annotated[str, Query(max_length=16)] = "",
    severity: Annotated[str, Query(max_length=16)] = "",
    rule: Annotated[str, Query(max_length=200)] = "",
    assignee: Annotated[str, Query(max_length=120)] = "",
    sort: Annotated[str, Query(max_length=16)] = "last_seen",
    page: Page = 1,
) -> HTMLResponse:
    """Show the federation's alerts, filtered, most recently seen first, 50 a page."""
    session, tenancy, request = view.session, view.scope, view.request
    code = org_code(org) if org.strip() else ""
    wanted_verdict = _choice(Verdict, verdict, "verdict")
    wanted_state = _choice(TriageState, state, "triage state")
    wanted_severity = _choice(Severity, severity, "severity")
    where = AlertFilter(
        org=code or None,
        orgs=scope,
        verdict=wanted_verdict.value if wanted_verdict else None,
        state=wanted_state.value if wanted_state else None,
        severity=wanted_severity,
        rule=rule.strip() or None,
        assignee=assignee.strip() or None,
    )
    listed = queue_page(
        session, where, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
        sort=sort if sort in SORTS else "last_seen",
    )  # fmt: skip
    found, total = listed.alerts, listed.total
    try:
        organisation = find_organisation(session, code, tenancy) if code else None
    except NotFoundError:
        organisation = None  # alerts may name an organisation the federation does not list
    verdict_value = wanted_verdict.value if wanted_verdict else ""
    state_value = wanted_state.value if wanted_state else ""
    severity_value = wanted_severity.value if wanted_severity else ""
    params = {
        "org": code,
        "verdict": verdict_value,
        "state": state_value,
        "severity": severity_value,
        "rule": rule.strip(),
        "assignee": assignee.strip(),
        "sort": sort if sort in SORTS and sort != "last_seen" else "",
    }
    return view.render(
        "alerts/list.html",
        alerts=found,
        total_exact=listed.exact,  # else counting stopped at total: "10,000+"
        known=_known_organisations(session, [a.org for a in found], tenancy),
        **paging(request, page, total, len(found), size=PAGE_SIZE, params=params),
        org=code,
        organisation=organisation,
        verdict=verdict_value,
        verdicts={s.value: s.value.capitalize() for s in Verdict},
        state=state_value,
        states={s.value: s.value.replace("_", " ").capitalize() for s in TriageState},
        severity=severity_value,
        severities={s.value: s.value.capitalize() for s in Severity},
        filtered=bool(
            code or wanted_verdict or wanted_state or wanted_severity or rule or assignee
        ),
        rule=rule.strip(),
        assignee=assignee.strip(),
        sort=sort if sort in SORTS else "last_seen",
        sorts=SORTS,
        resolutions=RESOLUTIONS,
        back=f"{request.url.path}?{request.url.query}" if request.url.query else "",
    )


@router.get("/alerts/{alert_id}", name="alert_page")
def alert_page(alert_id: AlertId, view: Alerts, scope: AlertScope) -> HTMLResponse:
    """Show one alert: what raised it, where, its indicator and the evidence events."""
    session = view.session
    alert = get_alert(session, alert_id, orgs=scope)
    group, _ = list_alerts(
        session, orgs=scope, group_id=alert.group_id, oldest_first=True, limit=100
    )
    return view.render(
        "alerts/show.html",
        alert=alert,
        known=_known_organisations(session, [alert.org], view.scope),
        group=group,
        history=triage.history(session, alert_id, orgs=scope),
        parsed=[evidence_fields(e.raw) for e in alert.evidence],
        hunt=hunt_around(alert),
        rule_id=rule_of_alert(alert.key),
        can_triage=view.principal.can("alerts:write", alert.org),
        resolutions=RESOLUTIONS,
        org_alerts_link=(
            f"{view.path('alert_list')}?{urlencode({'org': alert.org})}" if alert.org else None
        ),
    )


def evidence_fields(raw: str | None) -> dict[str, str]:
    """Parse one evidence line again with the format that reads it: its non-empty fields."""
    from bastion.boundary.lines import split_lines
    from bastion.boundary.parsers import ParseContext, detect_format
    from bastion.core.errors import BastionError

    if not raw:
        return {}
    try:
        parser = detect_format([raw])
        events = parser.read(split_lines(raw.encode() + b"\n"), ParseContext()).events
    except BastionError:
        return {}
    if events.is_empty():
        return {}
    row = events.row(0, named=True)
    skip = {"event.original", "_line"}
    return {k: str(v) for k, v in row.items() if v not in (None, "") and k not in skip}


def hunt_around(alert: Alert) -> str:
    """The hunt query for the alert's host within an hour either side of its span."""
    start = (alert.first_seen - HUNT_AROUND).strftime("%Y-%m-%d %H:%M:%S")
    end = (alert.last_seen + HUNT_AROUND).strftime("%Y-%m-%d %H:%M:%S")
    host = (alert.host or "").replace("'", "''")
    where = f'\'{host}\' IN ("source.ip", "destination.ip")' if host else "true"
    if alert.org:
        where += " AND org = '{}'".format(alert.org.replace("'", "''"))
    return (
        f'SELECT * FROM events WHERE {where} AND "@timestamp" '
        f"BETWEEN TIMESTAMPTZ '{start}+00' AND TIMESTAMPTZ '{end}+00' ORDER BY \"@timestamp\""
    )


def rule_of_alert(key: str) -> str | None:
    """The rule page an alert links to: its Sigma rule or built-in check, if a rule raised it."""
    from bastion.detect import KEY_PREFIX, builtin_rule_id

    if key.startswith(KEY_PREFIX):
        return key.removeprefix(KEY_PREFIX).split(" {", 1)[0]
    return builtin_rule_id(key)
