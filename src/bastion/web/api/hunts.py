"""`/api/v1/hunts`: SQL over the whole event archive, for national hunters, in the sandbox.

A hunt runs in ``boundary.sandbox``: the archive and nothing else, one SELECT, the
settings' memory and time limits, one hunt at a time per caller; each run is on the
audit trail. Saved hunts are kept under a name, private or shared with every hunter.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bastion.auth import Principal
from bastion.boundary import hunts
from bastion.boundary.hunting import archive_columns
from bastion.boundary.sandbox import HuntPage, HuntSlots, SandboxLimits, printable
from bastion.core.settings import Settings
from bastion.web.auth import require_national
from bastion.web.deps import PRINTABLE, SessionDep, SettingsDep

# Text with line breaks and tabs, but no other control character (NUL above all).
SQL_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
MAX_PAGE = 1000
MAX_OFFSET = 1_000_000
MAX_ID = 2**31 - 1

router = APIRouter(prefix="/hunts", tags=["hunts"])

Hunter = Annotated[Principal, Depends(require_national("hunt:read"))]
HuntWriter = Annotated[Principal, Depends(require_national("hunt:write"))]
Sql = Annotated[str, Field(min_length=1, max_length=hunts.MAX_SQL, pattern=SQL_TEXT)]


def sandbox_limits(settings: Settings) -> SandboxLimits:
    """Return the limits of one hunt from the settings."""
    return SandboxLimits(
        memory_limit=settings.hunt_memory_limit, seconds=settings.hunt_time_limit_seconds
    )


def hunt_slots(request: Request) -> HuntSlots:
    """Return the app's record of who has a hunt running (made on first use)."""
    slots: HuntSlots | None = getattr(request.app.state, "hunt_slots", None)
    if slots is None:
        slots = request.app.state.hunt_slots = HuntSlots()
    return slots


SlotsDep = Annotated[HuntSlots, Depends(hunt_slots)]


class HuntIn(BaseModel):
    """One SELECT over `events` (ECS names in double quotes) and the page of rows wanted."""

    model_config = ConfigDict(extra="forbid")

    sql: Sql
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 100
    offset: Annotated[int, Field(ge=0, le=MAX_OFFSET)] = 0


class ExportFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"


class ExportIn(BaseModel):
    """One SELECT over `events` to download whole (at most 1,000,000 rows)."""

    model_config = ConfigDict(extra="forbid")

    sql: Sql
    format: ExportFormat = ExportFormat.CSV


class CostOut(BaseModel):
    """What a hunt cost: the archive rows its scans read, the bytes read, the seconds taken."""

    rows_scanned: int
    bytes_read: int
    seconds: float


class ColumnOut(BaseModel):
    name: str
    type: str


class HuntOut(BaseModel):
    """One page of a hunt's rows (each an object by column), and what the query cost."""

    columns: list[ColumnOut]
    rows: list[dict[str, Any]]
    offset: int
    limit: int
    more: bool = Field(description="rows follow this page")
    cost: CostOut


class SavedHuntIn(BaseModel):
    """A hunt to keep under a name; shared ones are listed for every national hunter."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=hunts.MAX_NAME, pattern=PRINTABLE)]
    sql: Sql
    shared: bool = False


class SavedHuntOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    sql: str
    owner: str = Field(description="who saved it, as the audit trail names them")
    shared: bool
    created_at: datetime
    updated_at: datetime


def page_out(page: HuntPage, limit: int) -> HuntOut:
    """Return a hunt's page as the API answers it."""
    shown = printable(page.rows)
    return HuntOut(
        columns=[ColumnOut(name=n, type=str(t)) for n, t in page.rows.schema.items()],
        rows=shown.to_dicts(),
        offset=page.offset,
        limit=limit,
        more=page.more,
        cost=CostOut(**page.cost.__dict__),
    )


def export_body(frame: pl.DataFrame, fmt: ExportFormat) -> tuple[bytes, str]:
    """Return a hunt's rows as a CSV or Parquet file, with its media type."""
    buffer = io.BytesIO()
    if fmt is ExportFormat.CSV:
        printable(frame).write_csv(buffer)
        return buffer.getvalue(), "text/csv; charset=utf-8"
    frame.write_parquet(buffer)
    return buffer.getvalue(), "application/vnd.apache.parquet"


@dataclass(frozen=True)
class Sandbox:
    """A hunter's way into the sandbox: one hunt at a time, over the archive, within the limits."""

    session: Session
    settings: Settings
    principal: Principal
    slots: HuntSlots

    def run(self, hunt: Callable[..., HuntPage], sql: str, **page: int) -> HuntPage:
        """Run ``hunt`` (``hunts.run_hunt`` or ``hunts.export_hunt``) in the caller's slot."""
        with self.slots.hold(self.principal.actor):
            return hunt(
                self.session,
                self.principal.as_actor(),
                self.settings.archive_dir,
                sql,
                limits=sandbox_limits(self.settings),
                **page,
            )


def sandbox(
    session: SessionDep, settings: SettingsDep, principal: Hunter, slots: SlotsDep
) -> Sandbox:
    return Sandbox(session, settings, principal, slots)


SandboxDep = Annotated[Sandbox, Depends(sandbox)]


@router.post("", summary="Run a hunt")
def run_hunt(body: HuntIn, box: SandboxDep) -> HuntOut:
    """Run one SELECT over the archive's `events`; return a page of rows and the query's cost."""
    page = box.run(hunts.run_hunt, body.sql, limit=body.limit, offset=body.offset)
    return page_out(page, body.limit)


@router.post("/export", summary="Download a hunt's rows", response_class=Response)
def export_hunt(body: ExportIn, box: SandboxDep) -> Response:
    """Run one SELECT over `events` and answer its rows as a CSV or Parquet file."""
    page = box.run(hunts.export_hunt, body.sql)
    content, media = export_body(page.rows, body.format)
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="bastion-hunt.{body.format}"'},
    )


@router.get("/columns", summary="List the archive's columns")
def hunt_columns(_: Hunter) -> list[ColumnOut]:
    """Return the columns of `events` with their DuckDB types: ECS names, then `day` and `org`."""
    return [ColumnOut(name=n, type=t) for n, t in archive_columns()]


@router.get("/saved", summary="List saved hunts")
def list_saved(session: SessionDep, principal: Hunter) -> list[SavedHuntOut]:
    """Return the caller's saved hunts and those other hunters shared, by name."""
    found = hunts.list_saved_hunts(session, principal.as_actor())
    return [SavedHuntOut.model_validate(h) for h in found]


@router.post("/saved", summary="Save a hunt", status_code=201)
def save(body: SavedHuntIn, session: SessionDep, principal: HuntWriter) -> SavedHuntOut:
    """Keep a hunt under a name, for the caller alone or shared with every national hunter."""
    saved = hunts.save_hunt(session, principal.as_actor(), body.name, body.sql, shared=body.shared)
    return SavedHuntOut.model_validate(saved)


@router.delete("/saved/{hunt_id}", summary="Delete a saved hunt", status_code=204)
def delete(
    hunt_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: SessionDep, principal: HuntWriter
) -> Response:
    """Delete one of the caller's saved hunts (another's is not found)."""
    hunts.delete_saved_hunt(session, principal.as_actor(), hunt_id)
    return Response(status_code=204)
