"""The server-rendered console: HTML pages over the same public functions as the API.

Every page but sign-in is signed-in only (``PROTECTED``); a context adding pages
includes its router in ``router``.
"""

from fastapi import APIRouter

from bastion.web.auth import PROTECTED
from bastion.web.console import (
    admin,
    alert_triage,
    alerts,
    apidocs,
    events,
    hunt,
    oidc,
    orgs,
    overview,
    rules,
    signin,
    users,
)
from bastion.web.console import assure as assure_console
from bastion.web.console import behaviour as behaviour_console
from bastion.web.console import intel as intel_console
from bastion.web.console import passwords as passwords_console
from bastion.web.console import scan as scan_console
from bastion.web.console.advisories import router as advisories_router
from bastion.web.console.cases import router as cases_router
from bastion.web.console.holdings import router as holdings_router
from bastion.web.console.uptime import router as uptime_router

router = APIRouter(dependencies=PROTECTED)
for part in (
    overview.router,
    orgs.router,
    alerts.router,
    alert_triage.router,
    cases_router,
    advisories_router,
    holdings_router,
    intel_console.router,
    rules.router,
    events.router,
    hunt.router,
    passwords_console.router,
    uptime_router,
    assure_console.router,
    scan_console.router,
    behaviour_console.router,
    admin.router,
    users.router,
    apidocs.router,
    signin.signed_in,
):
    router.include_router(part)

public = APIRouter()
public.include_router(signin.router)
public.include_router(oidc.router)

__all__ = ["public", "router"]
