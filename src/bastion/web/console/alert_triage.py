"""The console's triage forms: one alert's actions, and the queue's bulk action.

Both post plain forms (keyboard-usable, no script needed) and redirect back; the
alerts are found in the caller's read scope first (404 for another tenant's), then
``alerts:write`` is checked at each alert's organisation (403).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse
from pydantic import Field

from bastion.alerts import triage
from bastion.core.errors import InputError
from bastion.web.api.alert_triage import writable_ids
from bastion.web.api.alerts import MAX_ID, AlertId, AlertScope
from bastion.web.console.view import View, see_other

router = APIRouter(include_in_schema=False)
Alerts = Annotated[View, Depends(View.of("alerts"))]

ACTIONS = ("ack", "assign", "close", "note", "split")


@dataclass(frozen=True)
class _Action:
    """What a triage form asks: the action, and the assignee, resolution or reason it takes."""

    action: str
    assignee: str
    resolution: str
    reason: str

    def apply(self, view: View, scope: AlertScope, ids: list[int]) -> None:
        """Do the action to the alerts ``ids`` once each is found writable (404, then 403)."""
        ids = writable_ids(view.session, view.principal, scope, ids)
        session, actor, why = view.session, view.principal.as_actor(), self.reason or None
        if self.action == "ack":
            triage.acknowledge(session, actor, ids, reason=why)
        elif self.action == "assign":
            triage.assign(session, actor, ids, self.assignee, reason=why)
        elif self.action == "close":
            if not self.resolution:
                msg = "choose a resolution to close"
                raise InputError(msg)
            triage.close(session, actor, ids, self.resolution, reason=why)
        elif self.action == "note":
            triage.add_note(session, actor, ids, self.reason)
        elif self.action == "split":
            for alert_id in ids:
                triage.split(session, actor, alert_id, reason=why)
        else:
            msg = f"unknown action {self.action!r}; choose one of {', '.join(ACTIONS)}"
            raise InputError(msg)


def _action(
    action: Annotated[str, Form(max_length=16)],
    assignee: Annotated[str, Form(max_length=120)] = "",
    resolution: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=10_000)] = "",
) -> _Action:
    return _Action(action, assignee, resolution, reason)


Action = Annotated[_Action, Depends(_action)]


@router.post("/alerts/{alert_id}/triage", name="alert_triage")
def alert_triage(
    alert_id: AlertId, view: Alerts, scope: AlertScope, form: Action
) -> RedirectResponse:
    """Act on one alert from its page, then show it again."""
    form.apply(view, scope, [alert_id])
    return view.redirect("alert_page", "#triage", alert_id=alert_id)


@router.post("/alerts/triage", name="alert_bulk")
def alert_bulk(
    view: Alerts,
    scope: AlertScope,
    form: Action,
    ids: Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Form(max_length=500)] = [],  # noqa: B006
    back: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    """Acknowledge, assign or close the alerts ticked in the queue, with one reason."""
    if form.action not in ("ack", "assign", "close"):
        msg = "a bulk action is ack, assign or close"
        raise InputError(msg)
    if not ids:
        msg = "tick at least one alert"
        raise InputError(msg)
    form.apply(view, scope, ids)
    listing = view.path("alert_list")
    return see_other(back if back.startswith(f"{listing}?") else listing)
