"""`/health`: is the server up and does its database answer."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bastion.web.deps import StoreDep

log = logging.getLogger("bastion.web")

router = APIRouter(tags=["health"])

_NO_CACHE = {"Cache-Control": "no-store"}


class Health(BaseModel):
    """Whether the server and its database work; ``detail`` says why when they do not."""

    status: Literal["ok", "error"]
    database: Literal["ok", "error"]
    detail: str | None = Field(default=None, description="the reason, when status is error")


@router.get(
    "/health",
    summary="Check the server and its database",
    responses={200: {"model": Health}, 503: {"model": Health}},
)
def health(store: StoreDep) -> JSONResponse:
    """Answer 200 when the database runs a trivial query, 503 with the reason otherwise."""
    try:
        with store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("health check: database error: %s", exc)
        cause = str(getattr(exc, "orig", None) or exc).strip()
        reason = cause.splitlines()[0] if cause else type(exc).__name__
        failed = Health(status="error", database="error", detail=f"database error: {reason}")
        return JSONResponse(failed.model_dump(mode="json"), status_code=503, headers=_NO_CACHE)
    return JSONResponse({"status": "ok", "database": "ok"}, headers=_NO_CACHE)
