"""The server-rendered console: HTML pages over the same public functions as the API."""

from fastapi import APIRouter

from bastion.web.console import alerts, apidocs, orgs

router = APIRouter()
router.include_router(orgs.router)
router.include_router(alerts.router)
router.include_router(apidocs.router)

__all__ = ["router"]
