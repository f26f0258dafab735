"""`bastion assure reviews` and `bastion assure plan`: the review workflow and improvement plans.

Reviews are self, peer or independent, one of each kind per return: assign a
reviewer, then the reviewer submits (in progress, with comments per outcome),
returns it for clarification (a comment says what is unclear) or approves it
(completed). The command line acts nationally, so it may move any review; every
change is one audit event as ``cli:<login>`` (``--by`` to name someone else).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

import typer

from bastion.cli.context import BY_OPTION, actor, command_group, day, everything, in_session, minute
from bastion.cli.output import CSV_OPTION, JSON_OPTION, Column, fields, print_record, print_rows

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bastion.assure.models import ActionRow
    from bastion.assure.reviews import ReviewSummary
    from bastion.assure.views import ReturnView

reviews_app = command_group(
    "Reviews of returns (self, peer, independent): list, show, assign, submit, return, approve."
)
plan_app = command_group("Improvement plans: list a return's actions, add one, close one.")

RETURN_ARG = typer.Argument(help="the return's id, from `bastion assure returns list`")
KIND_ARG = typer.Argument(help="self, peer or independent")
REVIEWER_OPTION = typer.Option(
    None, "--reviewer", help="who is reviewing (default: the assigned reviewer)"
)
OUTCOME_OPTION = typer.Option(None, "--outcome", help="the outcome the comment is on")
COMMENT_OPTION = typer.Option(None, "--comment", help="the reviewer's comment on --outcome")

REVIEW_COLUMNS: list[Column[ReviewSummary]] = [
    *fields("return_id=RETURN", "org", "period", "framework", "kind", "reviewer", "state"),
    *fields("comments"),
    ("UPDATED", lambda r: minute(r.updated_at)),
]


@reviews_app.command("list")
def reviews_list(
    reviewer: str | None = typer.Option(None, "--reviewer", help="only this reviewer's reviews"),
    state: str | None = typer.Option(
        None, "--state", help="to_do, in_progress, needs_clarification or completed"
    ),
    return_id: int | None = typer.Option(None, "--return", help="only this return's reviews"),
    as_json: bool = JSON_OPTION,
    as_csv: bool = CSV_OPTION,
) -> None:
    """List reviews: each one's return, kind, reviewer, state and number of comments."""
    from bastion.assure.reviews import list_reviews

    found = in_session(list_reviews, everything(), reviewer=reviewer, state=state,
                       return_id=return_id)  # fmt: skip
    print_rows(found, REVIEW_COLUMNS, as_json, as_csv, noun="reviews")


def _review_lines(shown: ReturnView) -> Iterator[str]:
    yield f"return {shown.id}  {shown.org}  {shown.period}  {shown.framework}  {shown.state}"
    if not shown.reviews:
        yield "no reviewer assigned"
    for review in shown.reviews:
        yield f"{review.kind} review by {review.reviewer}: {review.state}"
        for outcome, notes in review.comments.items():
            for note in notes:
                yield f"  {outcome}: {note['text']} ({note['by']}, {note['at'][:16]})"


def _show(return_id: int) -> ReturnView:
    from bastion.assure.returns import view, visible_row

    return in_session(lambda s: view(s, visible_row(s, return_id, everything())))


@reviews_app.command("show")
def reviews_show(return_id: int = RETURN_ARG, as_json: bool = JSON_OPTION) -> None:
    """Show a return's reviews: kind, reviewer, state and every comment per outcome."""
    shown = _show(return_id)
    print_record(shown, _review_lines, as_json=as_json,
                 data={"return": shown.id, "org": shown.org, "reviews": shown.reviews})  # fmt: skip


@reviews_app.command("assign")
def reviews_assign(
    return_id: int = RETURN_ARG,
    kind: str = KIND_ARG,
    reviewer: str = typer.Argument(help="the reviewer's user name"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Assign a reviewer the return's review of a kind (replacing an earlier one: to do again)."""
    from bastion.assure.reviews import assign_review

    shown = in_session(assign_review, return_id, kind, reviewer, actor=actor(by),
                       scope=everything())  # fmt: skip
    print_record(shown, _review_lines, as_json=as_json)


def _move(
    return_id: int,
    kind: str,
    state: str,
    reviewer: str | None,
    outcome: str | None,
    comment: str | None,
    by: str | None,
    as_json: bool,
) -> None:
    from bastion.assure.reviews import list_reviews, review_return

    def move(session: Session) -> ReturnView:
        kinds = list_reviews(session, everything(), return_id=return_id)
        assigned = [r.reviewer for r in kinds if r.kind == kind]
        name = reviewer or (assigned[0] if assigned else str(actor(by)))
        return review_return(session, return_id, kind, reviewer=name, actor=actor(by),
                             national=True, state=state, outcome=outcome, comment=comment)  # fmt: skip

    print_record(in_session(move), _review_lines, as_json=as_json)


@reviews_app.command("return")
def reviews_return(
    return_id: int = RETURN_ARG,
    kind: str = KIND_ARG,
    outcome: str = typer.Option(..., "--outcome", help="the outcome that needs clarifying"),
    comment: str = typer.Option(..., "--comment", help="what the organisation must clarify"),
    reviewer: str | None = REVIEWER_OPTION,
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Return a review to the organisation: needs clarification, saying what on which outcome."""
    _move(return_id, kind, "needs_clarification", reviewer, outcome, comment, by, as_json)


def _moving(state: str, doc: str) -> Callable[..., None]:
    """Return a command that moves a review to ``state`` (with an optional comment)."""

    def command(
        return_id: int = RETURN_ARG,
        kind: str = KIND_ARG,
        reviewer: str | None = REVIEWER_OPTION,
        outcome: str | None = OUTCOME_OPTION,
        comment: str | None = COMMENT_OPTION,
        by: str | None = BY_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        _move(return_id, kind, state, reviewer, outcome, comment, by, as_json)

    command.__doc__ = doc
    return command


reviews_app.command("submit")(
    _moving("in_progress", "Submit review work: the review is in progress, with an optional "
            "comment on an outcome.")
)  # fmt: skip
reviews_app.command("approve")(
    _moving("completed", "Approve a review: completed (a return publishes once every assigned "
            "review is).")
)  # fmt: skip


ACTION_COLUMNS: list[Column[ActionRow]] = [
    *fields("id=ACTION", "org_code=ORG", "period", "outcome", "owner"),
    ("DUE", lambda a: a.due.isoformat()),
    *fields("status"),
    ("INHERITED", lambda a: a.inherited_from or ""),  # the JSON says "" too
    *fields("text"),
]


def _plan(return_id: int) -> list[ActionRow]:
    from bastion.assure.reviews import plan

    return in_session(plan, return_id, everything())


def _action_data(actions: list[ActionRow]) -> list[dict[str, object]]:
    return [{header.lower(): get(a) for header, get in ACTION_COLUMNS} for a in actions]


@plan_app.command("list")
def plan_list(
    return_id: int = RETURN_ARG, as_json: bool = JSON_OPTION, as_csv: bool = CSV_OPTION
) -> None:
    """List the improvement plan of a return's organisation and period, earliest due first."""
    actions = _plan(return_id)
    print_rows(actions, ACTION_COLUMNS, as_json, as_csv, data=_action_data(actions),
               noun="actions")  # fmt: skip


@plan_app.command("add")
def plan_add(
    return_id: int = RETURN_ARG,
    outcome: str = typer.Argument(help="the outcome the action improves"),
    text: str = typer.Argument(help="what will be done"),
    owner: str = typer.Option(..., "--owner", help="who owns the action"),
    due: datetime = typer.Option(..., "--due", formats=["%Y-%m-%d"], help="due date, YYYY-MM-DD"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add an action to a return's improvement plan (open actions pass to the next period)."""
    from bastion.assure.reviews import add_action

    in_session(add_action, return_id, outcome, text, owner, due.date(), actor=actor(by),
               scope=everything())  # fmt: skip
    actions = _plan(return_id)
    print_rows(actions, ACTION_COLUMNS, as_json, data=_action_data(actions), noun="actions",
               footer=f"added an action on {outcome}; due {day(due)}")  # fmt: skip


@plan_app.command("close")
def plan_close(
    action_id: int = typer.Argument(help="the action's id, from `bastion assure plan list`"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Close an improvement-plan action: done."""
    from bastion.assure.reviews import set_action

    in_session(set_action, action_id, "done", actor=actor(by), scope=everything())
    print_record(action_id, lambda i: [f"action {i} done"], as_json=as_json,
                 data={"action": action_id, "status": "done"})  # fmt: skip
