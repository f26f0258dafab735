"""An organisation's Cyber Essentials Plus readiness: now (its latest answers) and its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.assure.catalogue import get_framework
from bastion.assure.models import ReturnRow, ScoreRow
from bastion.assure.score import readiness
from bastion.assure.views import answers_of
from bastion.core.errors import NotFoundError
from bastion.core.scope import Scope

FORMULA = (
    "control score = met questions / questions of the control, 0 if any automatic-fail "
    "question is not met (unanswered counts as not met); readiness = mean of the five "
    "control scores x 100"
)


@dataclass(frozen=True)
class OrgReadiness:
    org: str
    return_id: int
    period: str
    score: float
    controls: dict[str, float]
    failed: tuple[str, ...]
    formula: str
    history: tuple[tuple[datetime, float], ...]


def org_readiness(session: Session, org: str, scope: Scope) -> OrgReadiness:
    """Return ``org``'s readiness from its latest Cyber Essentials return, and its scores so far."""
    code = org.strip().upper()
    if not scope.allows(code):
        msg = f"no organisation with code {code!r}"
        raise NotFoundError(msg)
    row = session.scalars(
        select(ReturnRow)
        .where(ReturnRow.org_code == code, ReturnRow.framework.like("cyber-essentials@%"))
        .order_by(ReturnRow.period.desc(), ReturnRow.id.desc())
    ).first()
    if row is None:
        msg = f"{code} has no Cyber Essentials return: open one with `bastion assure returns open`"
        raise NotFoundError(msg)
    framework = get_framework(session, row.framework)
    now = readiness(framework, answers_of(framework, row.marks))
    history = session.execute(
        select(ScoreRow.at, ScoreRow.score).where(ScoreRow.org_code == code).order_by(ScoreRow.at)
    ).all()
    return OrgReadiness(
        code, row.id, row.period, now.score, now.controls, now.failed, FORMULA,
        tuple((at, float(score)) for at, score in history),
    )  # fmt: skip
