"""The JSON API, version 1: one router per context under ``/api/v1``, all signed-in only."""

from fastapi import APIRouter, Depends

from bastion.web.api import (
    account,
    alert_triage,
    alerts,
    behaviour,
    events,
    holdings,
    hunts,
    orgs,
    passwords,
    rules,
    scan,
    uptime,
)
from bastion.web.api import intel as intel_api
from bastion.web.api.advisories import router as advisories_router
from bastion.web.api.assure import router as assure_router
from bastion.web.api.cases import router as cases_router
from bastion.web.errors import PROBLEM_RESPONSES
from bastion.web.security import api_caller

API_PREFIX = "/api/v1"

router = APIRouter(
    prefix=API_PREFIX,
    responses=PROBLEM_RESPONSES,
    dependencies=[Depends(api_caller)],  # signed-in only, as PROTECTED, and rate-limited
)
# Directory agents' password checks first: the most frequent calls (routes are matched in order).
for part in (
    passwords.router,
    orgs.router,
    alerts.router,
    alert_triage.router,
    account.router,
    advisories_router,
    intel_api.router,
    rules.router,
    holdings.router,
    cases_router,
    events.router,
    hunts.router,
    uptime.router,
    assure_router,
    scan.router,
    behaviour.router,
):
    router.include_router(part)

__all__ = ["API_PREFIX", "router"]
