"""The console's triage forms: one alert's actions, and the queue's bulk action.

Both post plain forms (keyboard-usable, no script needed) and redirect back; the
alerts are found in the caller's read scope first (404 for another tenant's), then
``alerts:write`` is checked at each alert's organisation (403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import Field

from bastion.alerts import triage
from bastion.core.errors import InputError
from bastion.web.api.alert_triage import writable_ids
from bastion.web.api.alerts import MAX_ID, AlertId, AlertScope
from bastion.web.auth import PrincipalDep
from bastion.web.deps import SessionDep

router = APIRouter(include_in_schema=False)

ACTIONS = ("ack", "assign", "close", "note", "split")
Text = Annotated[str, Form(max_length=10_000)]


def _act(
    session: SessionDep,
    principal: PrincipalDep,
    ids: list[int],
    action: str,
    assignee: str,
    resolution: str,
    reason: str,
) -> None:
    actor = principal.as_actor()
    why = reason or None
    if action == "ack":
        triage.acknowledge(session, actor, ids, reason=why)
    elif action == "assign":
        triage.assign(session, actor, ids, assignee, reason=why)
    elif action == "close":
        if not resolution:
            msg = "choose a resolution to close"
            raise InputError(msg)
        triage.close(session, actor, ids, resolution, reason=why)
    elif action == "note":
        triage.add_note(session, actor, ids, reason)
    elif action == "split":
        for alert_id in ids:
            triage.split(session, actor, alert_id, reason=why)
    else:
        msg = f"unknown action {action!r}; choose one of {', '.join(ACTIONS)}"
        raise InputError(msg)


@router.post("/alerts/{alert_id}/triage", name="alert_triage")
def alert_triage(
    request: Request,
    alert_id: AlertId,
    session: SessionDep,
    scope: AlertScope,
    principal: PrincipalDep,
    action: Annotated[str, Form(max_length=16)],
    assignee: Annotated[str, Form(max_length=120)] = "",
    resolution: Annotated[str, Form(max_length=32)] = "",
    reason: Text = "",
) -> RedirectResponse:
    """Act on one alert from its page, then show it again."""
    ids = writable_ids(session, principal, scope, [alert_id])
    _act(session, principal, ids, action, assignee, resolution, reason)
    page = request.url_for("alert_page", alert_id=alert_id).path
    return RedirectResponse(f"{page}#triage", status_code=303)


@router.post("/alerts/triage", name="alert_bulk")
def alert_bulk(
    request: Request,
    session: SessionDep,
    scope: AlertScope,
    principal: PrincipalDep,
    action: Annotated[str, Form(max_length=16)],
    ids: Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Form(max_length=500)] = [],  # noqa: B006
    assignee: Annotated[str, Form(max_length=120)] = "",
    resolution: Annotated[str, Form(max_length=32)] = "",
    reason: Text = "",
    back: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    """Acknowledge, assign or close the alerts ticked in the queue, with one reason."""
    if action not in ("ack", "assign", "close"):
        msg = "a bulk action is ack, assign or close"
        raise InputError(msg)
    if not ids:
        msg = "tick at least one alert"
        raise InputError(msg)
    chosen = writable_ids(session, principal, scope, ids)
    _act(session, principal, chosen, action, assignee, resolution, reason)
    listing = request.url_for("alert_list").path
    target = back if back.startswith(f"{listing}?") else listing
    return RedirectResponse(target, status_code=303)
