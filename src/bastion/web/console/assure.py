"""The console's assurance pages: the national dashboard, and a return to fill, review and publish.

Built on the same functions as `/api/v1/assure`: a page shows what the caller's
scope (or review assignment) lets it see, and every form posts to a
``bastion.assure`` service, which records the change in the audit trail. Each
chart is drawn here (``bastion.web.charts``), with its table beside it and a CSV
download of the same rows from the API.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from bastion import assure
from bastion.assure.models import ReturnRow
from bastion.core.errors import InputError, NotFoundError
from bastion.core.scope import Scope
from bastion.web.api.assure import ReturnId, csv_table
from bastion.web.charts import category_bars
from bastion.web.console.view import View
from bastion.web.deps import PRINTABLE

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Assure = Annotated[View, Depends(View.of("assure"))]
Text = Annotated[str, Form(max_length=4000)]


@router.get("/assure", name="assure_dashboard")
def dashboard_page(
    view: Assure, period: Annotated[str | None, Query(max_length=9, pattern=PRINTABLE)] = None
) -> HTMLResponse:
    """Show the national picture (the caller's organisations, for a member) and its returns."""
    session, principal, scope = view.session, view.principal, view.scope
    principal.require("assure:read")
    board = assure.dashboard(session, scope, period)
    found, total = assure.list_returns(session, scope, reviewer=principal.name, period=board.period,
                                       limit=50)  # fmt: skip
    charts = {
        "statuses": category_bars(list(board.statuses), list(board.statuses.values()), title="Returns by status"),
        "readiness": category_bars(list(board.readiness_bands), list(board.readiness_bands.values()),
                                   title="Organisations by readiness band"),
        "trend": category_bars([t["month"] for t in board.readiness_trend],  # type: ignore[misc]
                               [float(t["mean"]) for t in board.readiness_trend],  # type: ignore[arg-type]
                               title="Mean readiness by month", unit=" %"),
    }  # fmt: skip
    tables = {
        name: csv_table(board, name)
        for name in ("statuses", "type", "region", "weakest", "readiness", "trend")
    }
    return view.render(
        "assure/dashboard.html", board=board, charts=charts, tables=tables, returns=found, total=total,
        peers=_peer_positions(session, scope, board.period),
    )  # fmt: skip


def _peer_positions(session: Session, scope: Scope, period: str) -> list[assure.PeerPosition]:
    """A member's organisations' anonymised places among their peers (none for national roles)."""
    found = []
    for code in scope.codes or ():
        try:
            found.append(assure.peer_position(session, code, scope, period))
        except NotFoundError:  # no DSPT return for the period: no place to show
            continue
    return found


def _readable(view: View, return_id: int) -> ReturnRow:
    """Return the return's row if the caller sees it (its scope or its review; else 404)."""
    row = assure.visible_row(view.session, return_id, view.scope, view.principal.name)
    view.principal.require("assure:read")
    return row


@router.get("/assure/returns/{return_id}", name="assure_return")
def return_page(return_id: ReturnId, view: Assure) -> HTMLResponse:
    """Show a return to fill (answers, comments, owners), its reviews, plan and publication."""
    session, principal = view.session, view.principal
    shown = assure.view(session, _readable(view, return_id))
    plan = assure.plan(session, return_id, view.scope, principal.name)
    may_edit = principal.can("assure:write", shown.org)
    mine = [r for r in shown.reviews if r.reviewer == principal.name]
    # The return is visible to the caller (its scope or review): so is the evidence it can use.
    shared: dict[str, list[tuple[str, str]]] = {}
    for item in assure.evidence_across(session, shown.org, Scope.of([shown.org])):
        for use in item.uses:
            if use.return_id == shown.id and not use.attached:
                shared.setdefault(use.outcome, []).append((item.link, use.via))
    return view.render(
        "assure/return.html", r=shown, plan=plan, may_edit=may_edit, my_reviews=mine,
        kinds=assure.KINDS, states=assure.STATES, shared=shared,
    )  # fmt: skip


@router.get("/assure/evidence/{org}", name="assure_evidence")
def evidence_page(
    org: Annotated[str, Path(max_length=16, pattern=PRINTABLE)], view: Assure
) -> HTMLResponse:
    """Show each evidence link of an organisation and every outcome it supports, per framework."""
    found = assure.evidence_across(view.session, org, view.scope)
    view.principal.require("assure:read", org.strip().upper())
    return view.render("assure/evidence.html", org=org.strip().upper(), links=found)


def _back(return_id: int) -> RedirectResponse:
    return RedirectResponse(f"/assure/returns/{return_id}", status_code=303)


def _writable(view: View, return_id: int) -> dict[str, list[str]]:
    """Refuse unless the caller may change the return; return its evidence links by outcome."""
    row = assure.visible_row(view.session, return_id, view.scope)
    view.principal.require("assure:write", row.org_code)
    return dict(row.evidence)


@router.post("/assure/returns/{return_id}", name="assure_return_save")
async def return_save(return_id: ReturnId, view: Assure) -> RedirectResponse:
    """Save the form: ``answer:<id>`` yes/no/blank, ``comment:<id>``, ``alternative:<id>``, ``owner:<id>``."""
    had = _writable(view, return_id)
    form = await view.request.form()
    answers: dict[str, bool | None] = {}
    comments: dict[str, dict[str, str]] = {}
    owners: dict[str, str] = {}
    evidence: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        kind, _, item = key.partition(":")
        text = str(value)[:4000]
        if kind == "answer":
            answers[item] = {"yes": True, "no": False}.get(text)
        elif kind in {"comment", "alternative"} and text.strip():
            comments.setdefault(item, {"text": "", "alternative": ""})[
                kind if kind == "alternative" else "text"
            ] = text
        elif kind == "owner" and text.strip():
            owners[item] = text
        elif kind == "evidence" and (text.split() or had.get(item)):
            evidence[item] = text.split()  # links, separated by spaces; emptied on purpose
    assure.update_return(view.session, return_id, actor=view.principal.as_actor(), scope=view.scope,
                         answers=answers, comments=comments, owners=owners, evidence=evidence)  # fmt: skip
    return _back(return_id)


@router.post("/assure/returns/{return_id}/publish", name="assure_return_publish")
def return_publish(return_id: ReturnId, view: Assure) -> RedirectResponse:
    """Publish the return as its next version."""
    _writable(view, return_id)
    assure.publish(view.session, return_id, actor=view.principal.as_actor(), scope=view.scope)
    return _back(return_id)


@router.post("/assure/returns/{return_id}/reviewers", name="assure_review_assign")
def review_assign(
    return_id: ReturnId, view: Assure, kind: Annotated[str, Form(max_length=16)],
    reviewer: Annotated[str, Form(max_length=120, pattern=PRINTABLE)],
) -> RedirectResponse:  # fmt: skip
    """Assign a reviewer to the return's self, peer or independent review."""
    _writable(view, return_id)
    assure.assign_review(
        view.session, return_id, kind, reviewer, actor=view.principal.as_actor(), scope=view.scope
    )
    return _back(return_id)


@router.post("/assure/returns/{return_id}/review", name="assure_review_move")
def review_move(
    return_id: ReturnId, view: Assure, kind: Annotated[str, Form(max_length=16)],
    state: Annotated[str, Form(max_length=24)] = "", outcome: Annotated[str, Form(max_length=40)] = "",
    comment: Text = "",
) -> RedirectResponse:  # fmt: skip
    """Move the caller's review and comment on an outcome."""
    _readable(view, return_id)
    principal = view.principal
    assure.review_return(
        view.session, return_id, kind, reviewer=principal.name, actor=principal.as_actor(),
        national=principal.national and principal.can("assure:write"), state=state or None,
        outcome=outcome or None, comment=comment.strip() or None,
    )  # fmt: skip
    return _back(return_id)


@router.post("/assure/returns/{return_id}/plan", name="assure_plan_add")
def plan_add(
    return_id: ReturnId, view: Assure,
    outcome: Annotated[str, Form(max_length=40)], text: Annotated[str, Form(max_length=1000)],
    owner: Annotated[str, Form(max_length=120)], due: Annotated[str, Form(max_length=10)],
) -> RedirectResponse:  # fmt: skip
    """Add an improvement-plan action."""
    _writable(view, return_id)
    try:
        when = date.fromisoformat(due)
    except ValueError:
        msg = "due: a date, YYYY-MM-DD"
        raise InputError(msg) from None
    assure.add_action(
        view.session,
        return_id,
        outcome,
        text,
        owner,
        when,
        actor=view.principal.as_actor(),
        scope=view.scope,
    )
    return _back(return_id)
