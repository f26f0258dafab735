"""Jinja2 templates and static assets of the console: where they live and the helpers pages use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from bastion import __version__

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

# Labels the console shows for organisation types; an unknown type falls back to its value.
ORG_TYPE_LABELS = {
    "region": "Region",
    "icb": "Integrated care board",
    "trust": "Trust",
    "gp_practice": "GP practice",
    "care_provider": "Care provider",
    "supplier": "Supplier",
    "arms_length_body": "Arm's-length body",
    "other": "Other",
}


@dataclass(frozen=True)
class NavItem:
    """One entry of the navigation bar: its label, the route it opens, and its section key."""

    label: str
    route: str
    section: str
    permission: str | None = None  # shown only to callers who hold it somewhere


# The navigation bar, in order; a context that adds console pages adds its entry here.
NAVIGATION: tuple[NavItem, ...] = (
    NavItem("Overview", "overview", "overview"),
    NavItem("Organisations", "org_list", "orgs", "orgs:read"),
    NavItem("Alerts", "alert_list", "alerts", "alerts:read"),
    NavItem("Cases", "case_list", "cases", "cases:read"),
    NavItem("Advisories", "advisory_list", "advisories", "advisories:read"),
    NavItem("Exposures", "exposure_list", "exposures", "advisories:read"),
    NavItem("Intel", "intel_list", "intel", "intel:read"),
    NavItem("Rules", "rule_list", "rules", "detect:read"),
    NavItem("Events", "event_search", "events", "events:read"),
    NavItem("Hunt", "hunt_page", "hunt", "hunt:read"),
    NavItem("Passwords", "password_page", "passwords", "passwords:read"),
    NavItem("Uptime", "uptime_monitors", "uptime", "uptime:read"),
    NavItem("Assurance", "assure_dashboard", "assure", "assure:read"),
    NavItem("Scanning", "scan_findings_page", "scan", "scan:read"),
    NavItem("Behaviour", "behaviour_results_page", "behaviour", "behaviour:read"),
    NavItem("Users", "user_list", "users", "users:read"),
    NavItem("Tokens", "token_list", "tokens", "users:write"),
    NavItem("Audit", "audit_list", "audit", "audit:read"),
    NavItem("API", "api_docs", "api"),
)


def org_type_label(value: object) -> str:
    """Return the human label of an organisation type (an OrgType or its value)."""
    key = str(value)
    return ORG_TYPE_LABELS.get(key, key.replace("_", " ").capitalize())


@jinja2.pass_context
def path_for(context: Any, name: str, /, **params: Any) -> str:
    """Return the path (no scheme, no host) of the route ``name``, under the app's root path."""
    request: Request = context["request"]
    return request.url_for(name, **params).path


@jinja2.pass_context
def static_path(context: Any, file: str, /) -> str:
    """Return the path of a static asset, versioned so a new release is not served stale."""
    request: Request = context["request"]
    return f"{request.url_for('static', path=file).path}?v={__version__}"


@jinja2.pass_context
def current_principal(context: Any, /) -> Any:
    """Return the signed-in caller of the page (a ``Principal``), or None on public pages."""
    request: Request = context["request"]
    return getattr(request.state, "principal", None)


@jinja2.pass_context
def csrf_token(context: Any, /) -> str:
    """Return the CSRF token every form of a signed-in page must carry."""
    request: Request = context["request"]
    return getattr(request.state, "csrf_token", None) or ""


@jinja2.pass_context
def can(context: Any, permission: str | None, /, org: str | None = None) -> bool:
    """Tell whether the page's caller holds ``permission`` (None: anyone signed in)."""
    principal = current_principal(context)
    if principal is None:
        return False
    return permission is None or bool(principal.can(permission, org))


def make_templates() -> Jinja2Templates:
    """Build the console's template renderer: autoescaped, strict about undefined names."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        path_for=path_for,
        static=static_path,
        version=__version__,
        navigation=NAVIGATION,
        principal=current_principal,
        csrf=csrf_token,
        can=can,
    )
    env.filters["org_type"] = org_type_label
    return Jinja2Templates(env=env)
