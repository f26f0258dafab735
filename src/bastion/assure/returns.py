"""The door that changes returns: open, answer (autosave), publish; each call one audit event.

Every function takes the caller's ``Scope`` and, for reviewers, their name: a
return is visible to its organisation's scope and to the reviewers assigned to it.
A published return is never changed: its published versions are append-only rows,
and republishing after amending makes the next version, with the diff from the last.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bastion import audit, orgs
from bastion.assure.catalogue import get_framework
from bastion.assure.framework import Framework
from bastion.assure.models import ActionRow, ReturnRow, ReturnVersionRow, ReviewRow, ScoreRow
from bastion.assure.rules import Bools, marks_matrix, marks_of, outcome_codes, return_codes
from bastion.assure.score import control_scores
from bastion.assure.views import ReturnView, answers_of, build_view, is_late, period_deadline
from bastion.audit import Actor
from bastion.core.errors import ConflictError, InputError, NotFoundError
from bastion.core.scope import Scope
from bastion.core.timeutil import utcnow
from bastion.store.membership import one_of
from bastion.store.paging import page_of

FACTS = ("ce_plus_certificate",)  # what an organisation states; the plan's fact is derived


def _placement(session: Session, code: str) -> tuple[str, str, str]:
    """Return an organisation's type, region and ICB (walking up its parents)."""
    organisation = orgs.get_organisation(session, code)
    region = icb = ""
    parent = organisation.parent
    while parent:
        above = orgs.get_organisation(session, parent)
        if above.type is orgs.OrgType.ICB:
            icb = above.name
        if above.type is orgs.OrgType.REGION:
            region = above.name
        parent = above.parent
    return organisation.type.value, region, icb


def visible_row(
    session: Session, return_id: int, scope: Scope, reviewer: str | None = None
) -> ReturnRow:
    """Return the return ``return_id`` if the caller may see it, else raise NotFoundError."""
    row = session.get(ReturnRow, return_id)
    if row is not None and (scope.allows(row.org_code) or _assigned(session, row.id, reviewer)):
        return row
    msg = f"no return {return_id}"
    raise NotFoundError(msg)


def _assigned(session: Session, return_id: int, reviewer: str | None) -> bool:
    if not reviewer:
        return False
    query = select(func.count()).where(
        ReviewRow.return_id == return_id, ReviewRow.reviewer == reviewer
    )
    return bool(session.scalar(query))


def facts_of(session: Session, row: ReturnRow) -> dict[str, bool]:
    """Return the facts the return rule reads: stated ones, and whether a plan is published."""
    key = row.framework.partition("@")[0]
    plan = session.scalar(
        select(func.count()).where(
            ActionRow.org_code == row.org_code, ActionRow.period == row.period,
            ActionRow.framework_key == key, ActionRow.status == "open",
        )
    )  # fmt: skip
    return {
        **{k: bool(row.facts.get(k, False)) for k in FACTS},
        "improvement_plan_published": bool(plan),
    }


def view(session: Session, row: ReturnRow, today: date | None = None) -> ReturnView:
    """Return the reader's view of ``row``."""
    reviews = list(
        session.scalars(
            select(ReviewRow).where(ReviewRow.return_id == row.id).order_by(ReviewRow.id)
        )
    )
    framework = get_framework(session, row.framework)
    return build_view(framework, row, reviews, facts_of(session, row), today or utcnow().date())


def _record(session: Session, actor: Actor, action: str, row: ReturnRow, **changes: Any) -> None:
    row.updated_at = utcnow()
    audit.record(session, actor, action, f"return:{row.id}", org=row.org_code, **changes)


def open_return(
    session: Session,
    org: str,
    period: str,
    framework_ref: str,
    *,
    actor: Actor,
    scope: Scope,
    deadline_day: str = "06-30",
) -> ReturnView:
    """Open ``org``'s return for ``period``; the open actions of its earlier plans pass to it."""
    code = org.strip().upper()
    if not scope.allows(code):
        msg = f"no organisation with code {code!r}"
        raise NotFoundError(msg)
    framework = get_framework(session, framework_ref)
    deadline = period_deadline(period, deadline_day)
    taken = session.scalars(
        select(ReturnRow.id).where(
            ReturnRow.org_code == code,
            ReturnRow.period == period,
            ReturnRow.framework == framework.ref,
        )
    ).first()
    if taken is not None:
        msg = f"{code} already has return {taken} for {period} against {framework.ref}"
        raise ConflictError(msg)
    org_type, region, icb = _placement(session, code)
    row = ReturnRow(
        org_code=code, period=period, framework=framework.ref, org_type=org_type, region=region,
        icb=icb, profile=framework.profile_of(org_type), state="draft",
        marks="." * len(framework.statements), comments={}, evidence={}, owners={}, facts={},
        version=0, outcome_marks="", deadline=deadline, source="entered", drift=[],
        drift_count=0, published_late=False,
    )  # fmt: skip
    session.add(row)
    session.flush()
    inherited = _inherit_actions(session, code, period, framework.key)
    _record(session, actor, "assure.return.open", row,
            after={"period": period, "framework": framework.ref, "inherited_actions": inherited})  # fmt: skip
    return view(session, row)


def _inherit_actions(session: Session, org: str, period: str, key: str) -> list[int]:
    """Copy the open actions of ``org``'s earlier periods into ``period``; return the new ids."""
    earlier = session.scalars(
        select(ActionRow).where(
            ActionRow.org_code == org, ActionRow.framework_key == key, ActionRow.period < period,
            ActionRow.status == "open",
        )
    ).all()  # fmt: skip
    latest = max((a.period for a in earlier), default=None)
    made = []
    for action in (a for a in earlier if a.period == latest):
        copy = ActionRow(
            org_code=org, period=period, framework_key=key, outcome=action.outcome,
            text=action.text, owner=action.owner, due=action.due, status="open",
            inherited_from=action.id,
        )  # fmt: skip
        session.add(copy)
        session.flush()
        made.append(copy.id)
    return made


def _check_comment(value: Any, sid: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        msg = f"the comment on {sid} is an object with text (and alternative: the reason)"
        raise InputError(msg)
    text = str(value.get("text", "")).strip()
    alternative = str(value.get("alternative", "")).strip()
    if len(text) > 4000 or len(alternative) > 2000:
        msg = f"the comment on {sid} is too long (text 4,000 characters, alternative 2,000)"
        raise InputError(msg)
    return {"text": text, "alternative": alternative}


def _known(framework: Framework, ids: Any, outcomes: bool) -> None:
    valid = {o.id for o in framework.outcomes} if outcomes else set(framework.statement_index)
    unknown = sorted(set(ids) - valid)
    if unknown:
        what = "outcome" if outcomes else "statement"
        msg = f"{framework.ref} has no {what} {unknown[0]!r}"
        raise InputError(msg)


def update_return(
    session: Session,
    return_id: int,
    *,
    actor: Actor,
    scope: Scope,
    answers: Mapping[str, bool | None] | None = None,
    comments: Mapping[str, Any] | None = None,
    owners: Mapping[str, str] | None = None,
    evidence: Mapping[str, list[str]] | None = None,
    facts: Mapping[str, bool] | None = None,
) -> ReturnView:
    """Save part of a return (autosave): answers, comments, owners, evidence links, facts.

    A published return becomes a draft again (its published versions stay as they are).
    """
    row = visible_row(session, return_id, scope)
    framework = get_framework(session, row.framework)
    answers, comments, owners = answers or {}, comments or {}, owners or {}
    evidence, facts = evidence or {}, facts or {}
    _known(framework, [*answers, *comments], outcomes=False)
    _known(framework, [*owners, *evidence], outcomes=True)
    unknown = sorted(set(facts) - set(FACTS))
    if unknown:
        msg = f"unknown fact {unknown[0]!r}; an organisation states {', '.join(FACTS)}"
        raise InputError(msg)
    current = answers_of(framework, row.marks)
    before = {k: current.get(k) for k in answers}
    row.marks = marks_of(framework, {**current, **answers})
    row.comments = {**row.comments, **{k: _check_comment(v, k) for k, v in comments.items()}}
    row.owners = {**row.owners, **{k: str(v).strip()[:120] for k, v in owners.items()}}
    links = {
        k: [str(u).strip()[:500] for u in v if str(u).strip()][:50] for k, v in evidence.items()
    }
    row.evidence = {**row.evidence, **links}
    row.facts = {**row.facts, **{k: bool(v) for k, v in facts.items()}}
    amended = row.state == "published"
    row.state = "draft"
    _record(session, actor, "assure.return.update", row, before={"answers": before},
            after={"answers": dict(answers), "comments": sorted(comments), "owners": dict(owners),
                   "evidence": sorted(links), "facts": dict(facts), "amending": amended})  # fmt: skip
    return view(session, row)


def _diff(
    framework: Framework,
    old: ReturnVersionRow | None,
    marks: str,
    outcome_marks: str,
    status: str | None,
) -> dict[str, Any]:
    if old is None:
        return {"first": True}
    answers = [
        {"statement": s.id, "from": a, "to": b}
        for s, a, b in zip(framework.statements, old.marks, marks, strict=True) if a != b
    ]  # fmt: skip
    outcomes = [
        {"outcome": o.id, "from": framework.statuses[int(a)], "to": framework.statuses[int(b)]}
        for o, a, b in zip(framework.outcomes, old.outcome_marks, outcome_marks, strict=True) if a != b
    ]  # fmt: skip
    return {"answers": answers, "outcomes": outcomes, "status": {"from": old.status, "to": status}}


def publish(
    session: Session, return_id: int, *, actor: Actor, scope: Scope, now: datetime | None = None
) -> ReturnView:
    """Publish the return as its next version, with the diff from the last; audited.

    Every review assigned to it must be completed first; a republish must change something.
    """
    row = visible_row(session, return_id, scope)
    open_reviews = session.scalars(
        select(ReviewRow.kind).where(ReviewRow.return_id == row.id, ReviewRow.state != "completed")
    ).all()
    if open_reviews:
        msg = f"return {row.id} has reviews not completed ({', '.join(open_reviews)}); publish after them"
        raise ConflictError(msg)
    framework = get_framework(session, row.framework)
    matrix = marks_matrix(framework, [row.marks])
    outcome_marks = "".join(str(int(c)) for c in outcome_codes(framework, matrix)[0])
    facts = {k: np.array([v]) for k, v in facts_of(session, row).items()}
    overall = return_codes(framework, matrix, facts)
    status = None if overall is None else framework.return_statuses[int(overall[0])]
    last = session.scalars(
        select(ReturnVersionRow)
        .where(ReturnVersionRow.return_id == row.id)
        .order_by(ReturnVersionRow.version.desc())
    ).first()
    if (
        last is not None
        and last.marks == row.marks
        and last.status == status
        and last.comments == row.comments
    ):
        msg = f"return {row.id} is unchanged since version {last.version}; amend it before republishing"
        raise ConflictError(msg)
    moment = now or utcnow()
    diff = _diff(framework, last, row.marks, outcome_marks, status)
    row.version += 1
    session.add(
        ReturnVersionRow(
            return_id=row.id, version=row.version, published_at=moment, published_by=str(actor)[:120],
            marks=row.marks, outcome_marks=outcome_marks, status=status, comments=dict(row.comments),
            diff=diff,
        )
    )  # fmt: skip
    row.state, row.status, row.outcome_marks, row.published_at = (
        "published",
        status,
        outcome_marks,
        moment,
    )
    row.drift, row.drift_count, row.published_late = [], 0, moment.date() > row.deadline
    if framework.kind == "cyber-essentials":
        _record_score(session, framework, row, matrix, moment)
    _record(session, actor, "assure.return.publish", row,
            after={"version": row.version, "status": status, "diff": diff})  # fmt: skip
    return view(session, row)


def _record_score(
    session: Session, framework: Framework, row: ReturnRow, matrix: Bools, at: datetime
) -> None:
    """Add the readiness score of a published Cyber Essentials return to its history."""
    controls = control_scores(framework, matrix)[0]
    session.add(
        ScoreRow(
            org_code=row.org_code, org_type=row.org_type, at=at, score=round(float(controls.mean() * 100), 2),
            controls={o.id: round(float(v) * 100, 2) for o, v in zip(framework.outcomes, controls, strict=True)},
        )
    )  # fmt: skip


def versions(
    session: Session, return_id: int, scope: Scope, reviewer: str | None = None
) -> list[dict[str, Any]]:
    """Return the published versions of a return, oldest first, each with its diff."""
    visible_row(session, return_id, scope, reviewer)
    rows = session.scalars(
        select(ReturnVersionRow)
        .where(ReturnVersionRow.return_id == return_id)
        .order_by(ReturnVersionRow.version)
    )
    return [
        {"version": r.version, "published_at": r.published_at, "published_by": r.published_by,
         "status": r.status, "diff": r.diff}
        for r in rows
    ]  # fmt: skip


@dataclass(frozen=True)
class ReturnSummary:
    """One return as a list shows it."""

    id: int
    org: str
    period: str
    framework: str
    org_type: str
    state: str
    version: int
    status: str | None
    published_at: datetime | None
    deadline: date
    late: bool
    drift: int
    source: str


def list_returns(
    session: Session,
    scope: Scope,
    *,
    reviewer: str | None = None,
    org: str | None = None,
    period: str | None = None,
    state: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[ReturnSummary], int]:
    """Return one page of the returns the caller may see (its scope, or assigned to review), and the total."""
    query = select(ReturnRow)
    if scope.codes is not None:
        assigned = select(ReviewRow.return_id).where(ReviewRow.reviewer == (reviewer or ""))
        query = query.where(
            or_(one_of(ReturnRow.org_code, scope.codes), ReturnRow.id.in_(assigned))
        )
    for column, value in ((ReturnRow.org_code, org and org.strip().upper()), (ReturnRow.period, period),
                          (ReturnRow.state, state)):  # fmt: skip
        if value:
            query = query.where(column == value)
    order = (ReturnRow.period.desc(), ReturnRow.org_code, ReturnRow.id)
    rows, total = page_of(session, query, *order, limit=limit, offset=offset)
    today = utcnow().date()
    return [
        ReturnSummary(r.id, r.org_code, r.period, r.framework, r.org_type, r.state, r.version, r.status,
                      r.published_at, r.deadline, is_late(r, today), len(r.drift or []), r.source)
        for r in rows
    ], total  # fmt: skip
