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


# The navigation bar, in order; a context that adds console pages adds its entry here.
NAVIGATION: tuple[NavItem, ...] = (
    NavItem("Organisations", "org_list", "orgs"),
    NavItem("Alerts", "alert_list", "alerts"),
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
    )
    env.filters["org_type"] = org_type_label
    return Jinja2Templates(env=env)
