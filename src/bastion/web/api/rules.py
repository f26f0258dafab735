"""`/api/v1/rules`: the Sigma detection rules, their tuning and the alerts they raised.

The rules are the rules folder's (``bastion rules list``): everyone who may read
detection sees the whole catalogue, but only the tuning and the alerts of the
organisations it may see. A rule is switched on or off for everyone with
``detect:write`` nationally (national administrators and analysts), or for one
organisation with ``detect:write`` there (its security lead too, as
``bastion rules disable --org`` does); another tenant's organisation answers 404.
The built-in checks' thresholds (``ports`` of ``builtin:port-scan``, ``bytes`` of
``builtin:exfiltration``) are set and cleared the same way, by the same people.
Every switch and every threshold goes to the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bastion import detect
from bastion.alerts import AlertFilter, alert_page, count_alerts, count_rule_alerts
from bastion.auth import Principal, Scope
from bastion.core.errors import InputError, Location, NotFoundError, PermissionDenied
from bastion.core.timeutil import utcnow
from bastion.core.types import org_code
from bastion.web.api.alerts import AlertSummary
from bastion.web.api.org_models import Code
from bastion.web.api.paging import Limit, Offset
from bastion.web.auth import PrincipalDep, ScopeDep
from bastion.web.deps import PRINTABLE, SessionDep
from bastion.web.errors import FieldError

RECENT_ALERTS = 20
ALERT_WINDOW = timedelta(days=7)  # "alerts in the last 7 days": alerts last seen since then

router = APIRouter(prefix="/rules", tags=["rules"])

RuleId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=PRINTABLE, description="the rule's id")
]
Kind = Literal["rule", "correlation", "builtin"]
Level = Literal["informational", "low", "medium", "high", "critical"]
# enabled: on for every organisation the caller sees; partly: off for some of them;
# disabled: off for everyone; not_run: invalid or unsupported, so never evaluated.
State = Literal["enabled", "partly", "disabled", "not_run"]
Sort = Literal["title", "id", "level", "alerts", "state"]
STATES: tuple[str, ...] = ("enabled", "partly", "disabled", "not_run")
SORTS: tuple[str, ...] = ("title", "id", "level", "alerts", "state")


def rule_catalogue(request: Request) -> detect.Catalogue:
    """Return the catalogue of the app's rules folder (loaded again when a rule file changes)."""
    catalogue: detect.RuleCatalogue = request.app.state.rule_catalogue
    return catalogue.current()


def detect_scope(scope: ScopeDep, principal: PrincipalDep) -> Scope:
    """Return what the caller may see of detection; 403 without ``detect:read``."""
    principal.require("detect:read")
    return scope


CatalogueDep = Annotated[detect.Catalogue, Depends(rule_catalogue)]
DetectScope = Annotated[Scope, Depends(detect_scope)]


@dataclass(frozen=True)
class RuleView:
    """A rule as one caller sees it: the rule, its tuning where the caller looks, its alerts."""

    entry: detect.CatalogueEntry
    enabled: bool  # not switched off for everyone
    disabled_for: tuple[str, ...]  # visible organisations it is switched off for
    enabled_for: tuple[str, ...]  # visible organisations it was switched back on for
    alerts: int  # visible alerts last seen in the last 7 days
    thresholds: tuple[detect.ThresholdView, ...] = ()  # a built-in check's, as far as visible

    @property
    def state(self) -> str:
        if not self.entry.runs:
            return "not_run"
        if not self.enabled:
            return "disabled"
        return "partly" if self.disabled_for else "enabled"


def rule_of_key(key: str) -> str:
    """Return the rule id of a rule alert's key (``sigma:<id>``, or ``sigma:<id> <group>``)."""
    return key.removeprefix(detect.KEY_PREFIX).split(" {", 1)[0]


def rule_views(
    session: Session,
    catalogue: detect.Catalogue,
    scope: Scope,
    *,
    rule_id: str | None = None,
) -> list[RuleView]:
    """Return every rule (or one) with the tuning and 7-day alert count ``scope`` may see."""
    settings = detect.rule_settings(session, rule_id=rule_id, orgs=scope.codes)
    thresholds = detect.thresholds_of(
        detect.threshold_settings(session, rule_id=rule_id, orgs=scope.codes)
    )
    counts: dict[str, int] = {}
    since = utcnow() - ALERT_WINDOW
    if rule_id is not None:  # one rule's alerts, not every rule's counted and then dropped
        where = AlertFilter(orgs=scope.codes, since=since, rule=rule_id)
        counts[rule_id] = count_alerts(session, where)
    else:
        # Grouped by the rule the key names in the database (nationally, the whole past
        # days read from a roll-up), only the catalogue's; a built-in check's named only
        # if it is one.
        rules = {e.id for e in catalogue.entries}
        for family, ident, n in count_rule_alerts(
            session, since=since, orgs=scope.codes, rules=rules
        ):
            rule = ident if family == detect.KEY_PREFIX else detect.builtin_rule_id(ident)
            if rule:
                counts[rule] = counts.get(rule, 0) + n
    off_globally = {s.rule_id for s in settings if s.org is None and not s.enabled}
    entries = [e for e in catalogue.entries if rule_id is None or e.id == rule_id]
    return [
        RuleView(
            entry=e,
            enabled=e.id not in off_globally,
            disabled_for=tuple(
                s.org for s in settings if s.rule_id == e.id and s.org and not s.enabled
            ),
            enabled_for=tuple(s.org for s in settings if s.rule_id == e.id and s.org and s.enabled),
            alerts=counts.get(e.id, 0),
            thresholds=tuple(detect.threshold_views(e.id, thresholds)),
        )
        for e in entries
    ]


def filter_rules(
    views: Sequence[RuleView],
    *,
    search: str = "",
    level: str = "",
    kind: str = "",
    state: str = "",
    logsource: str = "",
    sort: str = "title",
) -> list[RuleView]:
    """Keep the rules matching every filter given (any case) and order them by ``sort``."""
    if sort not in SORTS:
        msg = f"unknown sort {sort!r}; choose one of {', '.join(SORTS)}"
        raise InputError(msg, Location(field="sort"))
    if level and level not in detect.LEVELS:
        msg = f"unknown level {level!r}; choose one of {', '.join(detect.LEVELS)}"
        raise InputError(msg, Location(field="level"))
    if state and state not in STATES:
        msg = f"unknown state {state!r}; choose one of {', '.join(STATES)}"
        raise InputError(msg, Location(field="state"))
    if kind and kind not in (detect.RULE, detect.CORRELATION):
        msg = f"unknown kind {kind!r}; choose rule or correlation"
        raise InputError(msg, Location(field="kind"))
    needle = search.strip().lower()
    source = logsource.strip().lower()
    found = [
        v
        for v in views
        if (
            not needle
            or needle in v.entry.title.lower()
            or needle in v.entry.id.lower()
            or any(needle in t.lower() for t in v.entry.tags)
        )
        and (not level or v.entry.level == level)
        and (not kind or v.entry.kind == kind)
        and (not state or v.state == state)
        and (not source or source in v.entry.logsource.lower())
    ]
    keys = {
        "title": lambda v: (v.entry.title.lower(), v.entry.id),
        "id": lambda v: (v.entry.id, ""),
        "level": lambda v: (-v.entry.level_rank, v.entry.title.lower()),
        "alerts": lambda v: (-v.alerts, v.entry.title.lower()),
        "state": lambda v: (STATES.index(v.state), v.entry.title.lower()),
    }
    return sorted(found, key=keys[sort])


def tuning_target(principal: Principal, scope: Scope, org: str | None) -> str | None:
    """Check that ``principal`` may switch a rule for ``org`` (None: everyone); return its code.

    Another tenant's organisation is not found (404), as one that does not exist.
    """
    if org is None or not org.strip():
        if not principal.can_nationally("detect:write"):
            msg = (
                f"{principal.actor} may not switch a rule for every organisation; "
                "choose one of your organisations"
            )
            raise PermissionDenied(msg)
        return None
    try:
        code = org_code(org)
    except InputError as exc:
        raise InputError(exc.reason, Location(field="org")) from None
    if not scope.allows(code):
        msg = f"no organisation with code {code!r}"
        raise NotFoundError(msg)
    principal.require("detect:write", code)
    return code


class ThresholdOut(BaseModel):
    """A number a built-in check alerts at: its default, national value and organisations' own."""

    name: str = Field(description="ports (builtin:port-scan) or bytes (builtin:exfiltration)")
    unit: str
    description: str
    default: int = Field(description="the check's own default")
    minimum: int = Field(description="the lowest value it may be set to")
    maximum: int = Field(description="the highest value it may be set to")
    national: int = Field(description="the value for every organisation without its own")
    per_org: dict[str, int] = Field(description="organisations (of yours) with their own value")

    @classmethod
    def of(cls, view: detect.ThresholdView) -> ThresholdOut:
        return cls(
            name=view.name,
            unit=view.unit,
            description=view.description,
            default=view.default,
            minimum=view.minimum,
            maximum=view.maximum,
            national=view.national,
            per_org=view.per_org,
        )


def tunable(
    principal: Principal, scope: Scope, catalogue: detect.Catalogue, rule_id: str, org: str | None
) -> str | None:
    """Check that ``principal`` may tune ``rule_id`` for ``org`` and that the rule exists.

    Return the organisation's code (None: everyone), as ``tuning_target`` does.
    """
    code = tuning_target(principal, scope, org)
    catalogue.get(rule_id)
    return code


class RuleSummary(BaseModel):
    """A rule as the list shows it."""

    id: str
    title: str
    kind: Kind = Field(description="a Sigma rule or a correlation rule")
    level: str | None = Field(description="informational, low, medium, high or critical")
    sigma_status: str | None = Field(description="the rule's own status: stable, test …")
    state: State = Field(
        description="enabled, partly (off for some organisations), disabled, not_run"
    )
    logsource: str = Field(description="the log source it reads, or the correlation's type")
    enabled: bool = Field(description="not switched off for every organisation")
    disabled_for: list[str] = Field(description="organisations (of yours) it is switched off for")
    alerts_7d: int = Field(description="its alerts (that you may see) seen in the last 7 days")
    tags: list[str]
    thresholds: list[ThresholdOut] = Field(
        description="a built-in check's thresholds (none for a Sigma rule)"
    )

    @classmethod
    def of(cls, view: RuleView) -> RuleSummary:
        e = view.entry
        return cls(
            id=e.id,
            title=e.title,
            kind=e.kind,
            level=e.level,
            sigma_status=e.sigma_status,
            state=view.state,
            logsource=e.logsource,
            enabled=view.enabled,
            disabled_for=list(view.disabled_for),
            alerts_7d=view.alerts,
            tags=list(e.tags),
            thresholds=[ThresholdOut.of(t) for t in view.thresholds],
        )


class TuningOut(BaseModel):
    """One decision about a rule: on or off, for everyone (``org`` null) or one organisation."""

    org: str | None
    enabled: bool
    updated_at: datetime


class RuleOut(RuleSummary):
    """One rule: what it says, what Bastion made of it, its tuning and its recent alerts."""

    description: str | None
    attack: list[str] = Field(description="its ATT&CK tags")
    fields: list[str] = Field(description="event fields it tests (correlations: group-by, value)")
    references: list[str] = Field(description="the rules a correlation counts")
    file: str | None = Field(description="the rule file's name in the rules folder")
    yaml: str | None = Field(description="the rule's YAML document")
    reason: str | None = Field(description="why it does not run, when it does not")
    warnings: list[str]
    tuning: list[TuningOut] = Field(description="its settings that you may see")
    recent_alerts: list[AlertSummary] = Field(description="its most recent alerts you may see")


class RulePage(BaseModel):
    """One page of rules and how many match in all."""

    items: list[RuleSummary]
    total: int
    limit: int
    offset: int


class TuningIn(BaseModel):
    """Switch a rule on or off, for every organisation (``org`` omitted) or for one."""

    enabled: bool
    org: Code | None = Field(default=None, description="only for this organisation")


class ThresholdIn(BaseModel):
    """Set a built-in check's threshold (``value`` null: clear it), for everyone or one organisation."""

    name: str = Field(min_length=1, max_length=32, description="the threshold: ports or bytes")
    value: int | None = Field(
        description="the value to alert at, within the threshold's range; null clears it "
        "(an organisation's: back to the national value; the national one: to the default)"
    )
    org: Code | None = Field(default=None, description="only for this organisation")


def rule_detail(
    session: Session, catalogue: detect.Catalogue, scope: Scope, rule_id: str
) -> tuple[RuleView, list[detect.RuleSetting], list[AlertSummary]]:
    """Return one rule as ``scope`` sees it, its visible settings and its recent alerts."""
    catalogue.get(rule_id)
    [view] = rule_views(session, catalogue, scope, rule_id=rule_id)
    settings = detect.rule_settings(session, rule_id=rule_id, orgs=scope.codes)
    recent = alert_page(
        session,
        AlertFilter(orgs=scope.codes, key_family=detect.alert_key(rule_id)),
        limit=RECENT_ALERTS,
        count_limit=0,  # the page shows the most recent, not how many (a check may have 100,000s)
        evidence=True,
    )
    return view, settings, [AlertSummary.model_validate(a) for a in recent.alerts]


def rule_out(
    view: RuleView, settings: Sequence[detect.RuleSetting], alerts: list[AlertSummary]
) -> RuleOut:
    e = view.entry
    return RuleOut(
        **RuleSummary.of(view).model_dump(),
        description=e.description,
        attack=list(e.attack),
        fields=list(e.fields),
        references=list(e.references),
        file=PurePath(e.path).name if e.path else None,
        yaml=e.yaml,
        reason=e.reason,
        warnings=list(e.warnings),
        tuning=[TuningOut(org=s.org, enabled=s.enabled, updated_at=s.updated_at) for s in settings],
        recent_alerts=alerts,
    )


@router.get("", summary="List rules")
def list_rules(
    session: SessionDep,
    catalogue: CatalogueDep,
    scope: DetectScope,
    search: Annotated[str, Query(max_length=200, pattern=PRINTABLE)] = "",
    level: Annotated[Level | None, Query()] = None,
    kind: Annotated[Kind | None, Query()] = None,
    state: Annotated[State | None, Query()] = None,
    logsource: Annotated[str, Query(max_length=100, pattern=PRINTABLE)] = "",
    sort: Annotated[Sort, Query()] = "title",
    limit: Limit = 50,
    offset: Offset = 0,
) -> RulePage:
    """Return one page of the rules folder's rules and correlation rules, filtered and sorted."""
    found = filter_rules(
        rule_views(session, catalogue, scope),
        search=search,
        level=level or "",
        kind=kind or "",
        state=state or "",
        logsource=logsource,
        sort=sort,
    )
    return RulePage(
        items=[RuleSummary.of(v) for v in found[offset : offset + limit]],
        total=len(found),
        limit=limit,
        offset=offset,
    )


@router.get("/{rule_id}", summary="Get a rule")
def get_rule(
    rule_id: RuleId, session: SessionDep, catalogue: CatalogueDep, scope: DetectScope
) -> RuleOut:
    """Return a rule with its YAML, fields, tags, tuning and recent alerts (yours only)."""
    return rule_out(*rule_detail(session, catalogue, scope, rule_id))


@router.put("/{rule_id}/tuning", summary="Switch a rule on or off")
def tune_rule(
    rule_id: RuleId,
    body: TuningIn,
    session: SessionDep,
    catalogue: CatalogueDep,
    scope: ScopeDep,
    principal: PrincipalDep,
) -> RuleOut:
    """Switch a rule on or off for every organisation, or for one (audited); return the rule."""
    code = tunable(principal, scope, catalogue, rule_id, body.org)
    detect.tune_rule(session, principal.as_actor(), rule_id, enabled=body.enabled, org=code)
    return rule_out(*rule_detail(session, catalogue, scope, rule_id))


@router.put("/{rule_id}/thresholds", summary="Set or clear a built-in check's threshold")
def tune_threshold(
    rule_id: RuleId,
    body: ThresholdIn,
    session: SessionDep,
    catalogue: CatalogueDep,
    scope: ScopeDep,
    principal: PrincipalDep,
) -> RuleOut:
    """Set or clear a threshold for every organisation, or for one (audited); return the rule."""
    code = tunable(principal, scope, catalogue, rule_id, body.org)
    try:
        detect.tune_threshold(
            session, principal.as_actor(), rule_id, body.name, body.value, org=code
        )
    except InputError as exc:  # an unknown threshold or a value out of range: 422, by field
        raise FieldError(exc.reason, exc.location) from None
    return rule_out(*rule_detail(session, catalogue, scope, rule_id))
