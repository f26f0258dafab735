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
from bastion.web.auth import PROTECTED
from bastion.web.errors import PROBLEM_RESPONSES
from bastion.web.security import api_rate_limit

API_PREFIX = "/api/v1"

router = APIRouter(
    prefix=API_PREFIX,
    responses=PROBLEM_RESPONSES,
    dependencies=[*PROTECTED, Depends(api_rate_limit)],
)
router.include_router(orgs.router)
router.include_router(alerts.router)
router.include_router(alert_triage.router)
router.include_router(account.router)
router.include_router(advisories_router)
router.include_router(intel_api.router)
router.include_router(rules.router)
router.include_router(holdings.router)
router.include_router(cases_router)
router.include_router(events.router)
router.include_router(hunts.router)
router.include_router(passwords.router)
router.include_router(uptime.router)
router.include_router(assure_router)
router.include_router(scan.router)
router.include_router(behaviour.router)

__all__ = ["API_PREFIX", "router"]
