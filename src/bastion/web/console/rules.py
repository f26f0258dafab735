"""The console's rule pages: the rules list, one rule, the forms that switch it and tune it.

Built on the same functions as `/api/v1/rules` (``bastion.web.api.rules``), so the
list, its tenancy and who may switch what are the API's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from bastion import detect
from bastion.core.errors import InputError, Location
from bastion.web.api import rules as api
from bastion.web.console.paging import Page, paging
from bastion.web.console.view import View
from bastion.web.deps import PRINTABLE

PAGE_SIZE = 50

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Rules = Annotated[View, Depends(View.of("rules"))]

SORT_LABELS = {
    "title": "Title",
    "level": "Level, highest first",
    "alerts": "Alerts (7 days), most first",
    "state": "State",
    "id": "Id",
}
STATE_LABELS = {
    "enabled": "Enabled",
    "partly": "Off for some organisations",
    "disabled": "Disabled for everyone",
    "not_run": "Not run (invalid or unsupported)",
}
Filter = Annotated[str, Query(max_length=100, pattern=PRINTABLE)]


@router.get("/rules", name="rule_list")
def rule_list(
    view: Rules,
    catalogue: api.CatalogueDep,
    scope: api.DetectScope,
    search: Filter = "",
    level: Annotated[str, Query(max_length=16, pattern=PRINTABLE)] = "",
    kind: Annotated[str, Query(max_length=16, pattern=PRINTABLE)] = "",
    state: Annotated[str, Query(max_length=16, pattern=PRINTABLE)] = "",
    logsource: Filter = "",
    sort: Annotated[str, Query(max_length=16, pattern=PRINTABLE)] = "title",
    page: Page = 1,
) -> HTMLResponse:
    """Show the rules folder's rules and correlations, filtered and sorted, 50 a page."""
    params = {
        "search": search.strip(),
        "level": level.strip().lower(),
        "kind": kind.strip().lower(),
        "state": state.strip().lower(),
        "logsource": logsource.strip(),
        "sort": sort.strip().lower() or "title",
    }
    found = api.filter_rules(api.rule_views(view.session, catalogue, scope), **params)
    total = len(found)
    shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return view.render(
        "rules/list.html",
        rules=shown,
        problems=catalogue.problems,
        national=scope.national,
        **paging(view.request, page, total, len(shown), size=PAGE_SIZE, params=params),
        levels={level: level.capitalize() for level in detect.LEVELS},
        sorts=SORT_LABELS,
        states=STATE_LABELS,
        filtered=any(params[k] for k in ("search", "level", "kind", "state", "logsource")),
        **params,
    )


@router.get("/rules/{rule_id}", name="rule_page")
def rule_page(
    rule_id: api.RuleId, view: Rules, catalogue: api.CatalogueDep, scope: api.DetectScope
) -> HTMLResponse:
    """Show one rule: its YAML, fields, tags, tuning where the caller looks, and its alerts."""
    principal = view.principal
    rule, settings, alerts = api.rule_detail(view.session, catalogue, scope, rule_id)
    national_switch = principal.can_nationally("detect:write")
    # The organisations the caller may switch it for: all (national) or those it leads.
    own = [c for c in (scope.codes or []) if principal.can("detect:write", c)]
    return view.render(
        "rules/show.html",
        view=rule,
        rule=rule.entry,
        settings=settings,
        alerts=alerts,
        national=scope.national,
        national_switch=national_switch,
        own_orgs=own,
        may_tune=national_switch or bool(own),
    )


@router.post("/rules/{rule_id}/tuning", name="rule_tune")
def rule_tune(
    rule_id: api.RuleId,
    view: Rules,
    catalogue: api.CatalogueDep,
    enabled: Annotated[str, Form(max_length=8)],
    org: Annotated[str, Form(max_length=16, pattern=PRINTABLE)] = "",
) -> RedirectResponse:
    """Switch the rule on or off for everyone or one organisation (audited), then show it."""
    if enabled not in ("on", "off"):
        msg = f"enabled must be on or off, not {enabled!r}"
        raise InputError(msg, Location(field="enabled"))
    code = api.tunable(view.principal, view.scope, catalogue, rule_id, org or None)
    detect.tune_rule(
        view.session, view.principal.as_actor(), rule_id, enabled=enabled == "on", org=code
    )
    return view.redirect("rule_page", "#tuning", rule_id=rule_id)


@router.post("/rules/{rule_id}/thresholds", name="rule_threshold")
def rule_threshold(
    rule_id: api.RuleId,
    view: Rules,
    catalogue: api.CatalogueDep,
    name: Annotated[str, Form(max_length=32, pattern=PRINTABLE)],
    value: Annotated[str, Form(max_length=24)] = "",
    org: Annotated[str, Form(max_length=16, pattern=PRINTABLE)] = "",
    action: Annotated[str, Form(max_length=8)] = "set",
) -> RedirectResponse:
    """Set or clear a built-in check's threshold for everyone or one organisation (audited)."""
    if action not in ("set", "clear"):
        msg = f"action must be set or clear, not {action!r}"
        raise InputError(msg, Location(field="action"))
    number = None
    if action == "set":
        written = value.strip().replace(",", "").replace("_", "")
        if not written.isdigit():
            msg = f"give the threshold as a whole number, not {value!r}"
            raise InputError(msg, Location(field="value"))
        number = int(written)
    code = api.tunable(view.principal, view.scope, catalogue, rule_id, org or None)
    detect.tune_threshold(view.session, view.principal.as_actor(), rule_id, name, number, org=code)
    return view.redirect("rule_page", "#thresholds", rule_id=rule_id)
