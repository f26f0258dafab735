"""What routes depend on: the store, a session per request, settings and templates.

Everything comes from the app's state (set by ``create_app``), never from a
module global, so two apps on two stores can live in one process (tests do).
Sign-in and tenancy will arrive as further dependencies here (the current
user, the organisations they may see), added to the routers that need them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.templating import Jinja2Templates

from bastion import orgs
from bastion.core.errors import InputError, NotFoundError
from bastion.core.settings import Settings
from bastion.core.types import org_code
from bastion.store import Store

# Printable text only: control characters (NUL above all) are refused before they reach SQL.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


def get_store(request: Request) -> Store:
    """Return the store the app was created with."""
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    """Return the settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_templates(request: Request) -> Jinja2Templates:
    """Return the console's template renderer."""
    templates: Jinja2Templates = request.app.state.templates
    return templates


def get_session(store: Annotated[Store, Depends(get_store)]) -> Iterator[Session]:
    """Yield a session for one request: committed when the route succeeds, rolled back otherwise."""
    with store.session() as session:
        yield session


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
# scope="function": commit before the response is sent, so a failed commit is still answered.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SearchQuery = Annotated[
    str,
    Query(max_length=200, pattern=PRINTABLE, description="part of a name or code, any case"),
]


def find_organisation(session: Session, code: str) -> orgs.Organisation:
    """Return the organisation with ``code``; a code that cannot exist is simply not found."""
    try:
        normalised = org_code(code)
    except InputError as exc:
        msg = f"no organisation with code {code!r} ({exc})"
        raise NotFoundError(msg) from None
    return orgs.get_organisation(session, normalised)
