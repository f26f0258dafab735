"""Reviews and the improvement plan: assign a reviewer, move the review, comment; plan actions.

A review is self, peer or independent (as WebCAF has them), one of each kind per
return, held by one reviewer whose states are to do, in progress, needs
clarification and completed. Only the assigned reviewer moves their review; the
organisation (its scope) assigns reviewers and writes the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.assure.catalogue import get_framework
from bastion.assure.models import ActionRow, ReturnRow, ReviewRow
from bastion.assure.returns import view, visible_row
from bastion.assure.views import ReturnView
from bastion.audit import Actor
from bastion.core.errors import InputError, NotFoundError, PermissionDenied
from bastion.core.scope import Scope
from bastion.core.timeutil import utcnow
from bastion.store.membership import one_of

KINDS = ("self", "peer", "independent")
STATES = ("to_do", "in_progress", "needs_clarification", "completed")
ACTION_STATES = ("open", "done")


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    text = value.strip().lower().replace(" ", "_")
    if text not in allowed:
        msg = f"unknown {what} {value!r}; choose one of {', '.join(allowed)}"
        raise InputError(msg)
    return text


def assign_review(
    session: Session, return_id: int, kind: str, reviewer: str, *, actor: Actor, scope: Scope
) -> ReturnView:
    """Assign ``reviewer`` the ``kind`` review of the return (replacing an earlier one); audited."""
    row = visible_row(session, return_id, scope)
    kind = _choice(kind, KINDS, "review kind")
    name = reviewer.strip()
    if not name or len(name) > 120:
        msg = "a reviewer is named by their user name (1-120 characters)"
        raise InputError(msg)
    review = session.scalars(
        select(ReviewRow).where(ReviewRow.return_id == row.id, ReviewRow.kind == kind)
    ).one_or_none()
    before = None if review is None else {"reviewer": review.reviewer, "state": review.state}
    if review is None:
        review = ReviewRow(return_id=row.id, kind=kind, comments={})
        session.add(review)
    review.reviewer, review.state, review.updated_at = name, "to_do", utcnow()
    session.flush()
    audit.record(session, actor, "assure.review.assign", f"return:{row.id}", org=row.org_code,
                 before=before, after={"kind": kind, "reviewer": name})  # fmt: skip
    return view(session, row)


def _review(
    session: Session, return_id: int, kind: str, reviewer: str, national: bool
) -> tuple[ReturnRow, ReviewRow]:
    review = session.scalars(
        select(ReviewRow).where(ReviewRow.return_id == return_id, ReviewRow.kind == kind)
    ).one_or_none()
    row = session.get(ReturnRow, return_id)
    if review is None or row is None:
        msg = f"return {return_id} has no {kind} review"
        raise NotFoundError(msg)
    if review.reviewer != reviewer and not national:
        msg = f"the {kind} review of return {return_id} is {review.reviewer}'s"
        raise PermissionDenied(msg)
    return row, review


def review_return(
    session: Session,
    return_id: int,
    kind: str,
    *,
    reviewer: str,
    actor: Actor,
    national: bool = False,
    state: str | None = None,
    outcome: str | None = None,
    comment: str | None = None,
) -> ReturnView:
    """Move the reviewer's review to ``state`` and/or add ``comment`` on ``outcome``; audited."""
    row, review = _review(
        session, return_id, _choice(kind, KINDS, "review kind"), reviewer, national
    )
    before = {"state": review.state}
    if state is not None:
        review.state = _choice(state, STATES, "review state")
    if comment is not None:
        framework = get_framework(session, row.framework)
        if outcome not in {o.id for o in framework.outcomes}:
            msg = f"{framework.ref} has no outcome {outcome!r} to comment on"
            raise InputError(msg)
        text = comment.strip()
        if not text or len(text) > 4000:
            msg = "a review comment is 1-4,000 characters"
            raise InputError(msg)
        notes = {**review.comments}
        notes[outcome] = [
            *notes.get(outcome, []),
            {"by": reviewer, "at": utcnow().isoformat(), "text": text},
        ]
        review.comments = notes
    review.updated_at = utcnow()
    session.flush()
    audit.record(session, actor, "assure.review.update", f"return:{row.id}", org=row.org_code,
                 before=before, after={"kind": review.kind, "state": review.state, "outcome": outcome,
                                       "commented": comment is not None})  # fmt: skip
    return view(session, row)


def add_action(
    session: Session,
    return_id: int,
    outcome: str,
    text: str,
    owner: str,
    due: date,
    *,
    actor: Actor,
    scope: Scope,
) -> ReturnView:
    """Add an improvement-plan action on ``outcome`` of the return's period; audited."""
    row = visible_row(session, return_id, scope)
    framework = get_framework(session, row.framework)
    if outcome not in {o.id for o in framework.outcomes}:
        msg = f"{framework.ref} has no outcome {outcome!r}"
        raise InputError(msg)
    words, who = text.strip(), owner.strip()
    if not words or len(words) > 1000 or not who or len(who) > 120:
        msg = "an action has text (1-1,000 characters) and an owner (1-120)"
        raise InputError(msg)
    action = ActionRow(org_code=row.org_code, period=row.period, framework_key=framework.key,
                       outcome=outcome, text=words, owner=who, due=due, status="open")  # fmt: skip
    session.add(action)
    session.flush()
    audit.record(session, actor, "assure.action.add", f"action:{action.id}", org=row.org_code,
                 after={"return": row.id, "outcome": outcome, "owner": who, "due": due.isoformat()})  # fmt: skip
    return view(session, row)


def set_action(
    session: Session, action_id: int, status: str, *, actor: Actor, scope: Scope
) -> None:
    """Mark an action open or done; audited."""
    action = scope.visible(session.get(ActionRow, action_id), f"no action {action_id}")
    before = {"status": action.status}
    action.status = _choice(status, ACTION_STATES, "action status")
    audit.record(session, actor, "assure.action.update", f"action:{action.id}", org=action.org_code,
                 before=before, after={"status": action.status})  # fmt: skip


def plan(
    session: Session, return_id: int, scope: Scope, reviewer: str | None = None
) -> list[ActionRow]:
    """Return the improvement plan of the return's organisation and period."""
    row = visible_row(session, return_id, scope, reviewer)
    key = row.framework.partition("@")[0]
    return list(session.scalars(
        select(ActionRow).where(ActionRow.org_code == row.org_code, ActionRow.period == row.period,
                                ActionRow.framework_key == key).order_by(ActionRow.due, ActionRow.id)
    ))  # fmt: skip


@dataclass(frozen=True)
class ReviewSummary:
    """One review as a list shows it."""

    return_id: int
    org: str
    period: str
    framework: str
    kind: str
    reviewer: str
    state: str
    comments: int
    updated_at: datetime


def list_reviews(
    session: Session,
    scope: Scope,
    *,
    reviewer: str | None = None,
    state: str | None = None,
    return_id: int | None = None,
) -> list[ReviewSummary]:
    """Return the reviews the caller may see (its scope's returns, or assigned to ``reviewer``)."""
    query = select(ReviewRow, ReturnRow).join(ReturnRow, ReturnRow.id == ReviewRow.return_id)
    if scope.codes is not None:
        query = query.where(
            or_(one_of(ReturnRow.org_code, scope.codes), ReviewRow.reviewer == (reviewer or ""))
        )
    elif reviewer:
        query = query.where(ReviewRow.reviewer == reviewer)
    if state is not None:
        query = query.where(ReviewRow.state == _choice(state, STATES, "review state"))
    if return_id is not None:
        query = query.where(ReviewRow.return_id == return_id)
    rows = session.execute(query.order_by(ReviewRow.return_id, ReviewRow.id))
    return [
        ReviewSummary(r.return_id, ret.org_code, ret.period, ret.framework, r.kind, r.reviewer,
                      r.state, sum(len(v) for v in r.comments.values()), r.updated_at)
        for r, ret in rows
    ]  # fmt: skip
