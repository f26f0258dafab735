"""What routes depend on: the store, a session per request, settings and templates.

Everything comes from the app's state (set by ``create_app``), never from a
module global, so two apps on two stores can live in one process (tests do).
A dependency that only reads the app's state is ``async``: FastAPI runs a plain
``def`` dependency in its thread pool, a hop that costs more than the read.
Who is calling and what they may see are dependencies too, in
``bastion.web.auth``; the data-access helpers here take the caller's ``Scope``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.templating import Jinja2Templates

from bastion import orgs
from bastion.core.errors import InputError, NotFoundError
from bastion.core.scope import Scope
from bastion.core.settings import Settings
from bastion.core.types import org_code
from bastion.store import Store

# Printable text only: control characters (NUL above all) are refused before they reach SQL.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


async def get_store(request: Request) -> Store:
    """Return the store the app was created with."""
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    """Return the settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def settings_dependency(request: Request) -> Settings:
    """Return the settings the app was created with (``get_settings`` as a dependency)."""
    return get_settings(request)


T = TypeVar("T")


def app_object(request: Request, name: str, make: Callable[[], T]) -> T:
    """Return the app's object ``name``, made on first use (one per app, so one per store)."""
    state = request.app.state
    if not hasattr(state, name):
        setattr(state, name, make())
    found: T = getattr(state, name)
    return found


async def get_templates(request: Request) -> Jinja2Templates:
    """Return the console's template renderer."""
    templates: Jinja2Templates = request.app.state.templates
    return templates


async def get_session(store: Annotated[Store, Depends(get_store)]) -> AsyncIterator[Session]:
    """Yield a session for one request: committed when the route succeeds, rolled back otherwise.

    ``async``: a new session takes no connection, so it is made in the event loop; only
    ending one that did work (commit or rollback, close) goes to the thread pool.
    """
    session = store.open_session()
    try:
        yield session
    except BaseException as exc:
        await run_in_threadpool(store.finish, session, exc)
        raise
    if session.get_transaction() is None:
        session.close()  # it never took a connection: nothing to commit
    else:
        await run_in_threadpool(store.finish, session)


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(settings_dependency)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
# scope="function": commit before the response is sent, so a failed commit is still answered.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SearchQuery = Annotated[
    str,
    Query(max_length=200, pattern=PRINTABLE, description="part of a name or code, any case"),
]


def find_organisation(session: Session, code: str, scope: Scope) -> orgs.Organisation:
    """Return the organisation with ``code`` if ``scope`` may see it; otherwise it is not found.

    Outside the scope answers exactly as absent does (404, the same message), so
    nobody learns which codes another tenant has.
    """
    try:
        normalised = org_code(code)
    except InputError as exc:
        msg = f"no organisation with code {code!r} ({exc})"
        raise NotFoundError(msg) from None
    if not scope.allows(normalised):
        msg = f"no organisation with code {normalised!r}"
        raise NotFoundError(msg)
    return orgs.get_organisation(session, normalised)


def visible_organisations(
    session: Session,
    scope: Scope,
    *,
    search: str | None = None,
    type: orgs.OrgType | None = None,
    parent: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[orgs.Organisation], int]:
    """Return one page of the organisations ``scope`` may see, filtered, with the total."""
    return orgs.list_organisations(
        session,
        search=search,
        type=type,
        parent=parent,
        codes=scope.codes,
        limit=limit,
        offset=offset,
    )
