"""The JSON API, version 1: one router per context under ``/api/v1``."""

from fastapi import APIRouter

from bastion.web.api import alerts, orgs
from bastion.web.errors import PROBLEM_RESPONSES

API_PREFIX = "/api/v1"

router = APIRouter(prefix=API_PREFIX, responses=PROBLEM_RESPONSES)
router.include_router(orgs.router)
router.include_router(alerts.router)

__all__ = ["API_PREFIX", "router"]
