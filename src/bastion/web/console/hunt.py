"""The console's hunt page: SQL over the whole event archive for national hunters.

Built on the same functions as `/api/v1/hunts`: the sandbox, its limits, one hunt
at a time per caller, each run on the audit trail. Opening the page (``GET``) only
fills the editor — from a saved hunt or a link's ``sql`` — running it is a ``POST``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bastion.auth import Principal
from bastion.boundary import hunts
from bastion.boundary.hunting import archive_columns
from bastion.boundary.sandbox import HuntPage, printable
from bastion.core.errors import InputError
from bastion.web.api import hunts as api
from bastion.web.auth import require_national
from bastion.web.console.view import View, see_other
from bastion.web.deps import PRINTABLE, SessionDep, SettingsDep

PAGE_SIZE = 100
EXAMPLE = (
    'SELECT org, "destination.ip", count(*) AS events\nFROM events\n'
    "WHERE day = (SELECT max(day) FROM events)\nGROUP BY ALL\nORDER BY events DESC\nLIMIT 20"
)

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Hunt = Annotated[View, Depends(View.of("hunt"))]
Hunter = Annotated[Principal, Depends(require_national("hunt:read"))]
HuntWriter = Annotated[Principal, Depends(require_national("hunt:write"))]
SqlField = Annotated[str, Form(min_length=1, max_length=hunts.MAX_SQL, pattern=api.SQL_TEXT)]


def _render(
    view: View,
    *,
    sql: str,
    page: HuntPage | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "sql": sql,
        "columns": archive_columns(),
        "saved": hunts.list_saved_hunts(view.session, view.principal.as_actor()),
        "me": view.principal.actor,
        "error": error,
        "page": None,
    }
    if page is not None:
        shown = printable(page.rows)
        context["page"] = {
            "headings": shown.columns,
            "rows": shown.rows(),
            "first": page.offset + 1,
            "last": page.offset + shown.height,
            "offset": page.offset,
            "more": page.more,
            "previous": max(0, page.offset - PAGE_SIZE) if page.offset else None,
            "next": page.offset + PAGE_SIZE if page.more else None,
            "cost": page.cost,
        }
    return view.respond("hunt/hunt.html", context, status_code=status)


@router.get("/hunt", name="hunt_page")
def hunt_page(
    view: Hunt,
    principal: Hunter,
    sql: Annotated[str, Query(max_length=hunts.MAX_SQL, pattern=api.SQL_TEXT)] = "",
    saved: Annotated[int | None, Query(ge=1, le=api.MAX_ID)] = None,
) -> HTMLResponse:
    """Show the editor (filled from a saved hunt or a link), the columns and the saved hunts."""
    if saved is not None:
        sql = hunts.get_saved_hunt(view.session, saved, principal.as_actor()).sql
    return _render(view, sql=sql or EXAMPLE)


@router.post("/hunt", name="hunt_run")
def hunt_run(
    view: Hunt,
    settings: SettingsDep,
    principal: Hunter,
    slots: api.SlotsDep,
    sql: SqlField,
    offset: Annotated[int, Form(ge=0, le=api.MAX_OFFSET)] = 0,
) -> HTMLResponse:
    """Run the editor's query and show a page of its rows and its cost (or why it failed)."""
    with slots.hold(principal.actor):
        try:
            page = hunts.run_hunt(
                view.session,
                principal.as_actor(),
                settings.archive_dir,
                sql,
                limits=api.sandbox_limits(settings),
                limit=PAGE_SIZE,
                offset=offset,
            )
        except InputError as exc:
            return _render(view, sql=sql, error=str(exc), status=422)
    return _render(view, sql=sql, page=page)


@router.post("/hunt/download", name="hunt_download", response_class=Response)
def hunt_download(
    session: SessionDep,
    settings: SettingsDep,
    principal: Hunter,
    slots: api.SlotsDep,
    sql: SqlField,
    format: Annotated[api.ExportFormat, Form()] = api.ExportFormat.CSV,
) -> Response:
    """Download the editor's query's rows as CSV or Parquet."""
    box = api.Sandbox(session, settings, principal, slots)
    return api.export_hunt(api.ExportIn(sql=sql, format=format), box)


@router.post("/hunt/saved", name="hunt_save")
def hunt_save(
    session: SessionDep,
    principal: HuntWriter,
    sql: SqlField,
    name: Annotated[str, Form(min_length=1, max_length=hunts.MAX_NAME, pattern=PRINTABLE)],
    shared: Annotated[bool, Form()] = False,
) -> RedirectResponse:
    """Save the editor's query under a name; open it again."""
    saved = hunts.save_hunt(session, principal.as_actor(), name, sql, shared=shared)
    return see_other(f"/hunt?saved={saved.id}")


@router.post("/hunt/saved/{hunt_id}/delete", name="hunt_delete")
def hunt_delete(
    hunt_id: Annotated[int, Path(ge=1, le=api.MAX_ID)],
    session: SessionDep,
    principal: HuntWriter,
) -> RedirectResponse:
    """Delete one of the caller's saved hunts."""
    hunts.delete_saved_hunt(session, principal.as_actor(), hunt_id)
    return see_other("/hunt")
