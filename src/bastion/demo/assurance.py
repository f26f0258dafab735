"""The demo's assurance year: a national year of DSPT-style returns and a rising readiness.

`bastion init --demo` calls `load_demo_assurance` once. It stores the shipped
frameworks, then writes, in a few vectorised inserts (never an ORM object a row):

* one 2024-25 return for each asked organisation of the federation, and synthetic
  small organisations (``DM00001``...) up to ``returns`` in all — the national
  picture has tens of thousands of GP practices, care providers and pharmacies.
  Answers are drawn so the statuses, derived by the framework's own rule, come out
  near the published shares (about 65 % Standards Met, 27 % Approaching Standards,
  7 % Exceeded, 1 % Not Met); about 3 % are not published and 8 % published late;
  every Approaching return has an improvement-plan action.
* for each trust and ICB, a Cyber Essentials return and a monthly readiness score
  over the last year, the national mean rising from about 48 % to about 70 %.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import insert
from sqlalchemy.orm import Session

from bastion import assure
from bastion.assure.models import ActionRow, ReturnRow, ScoreRow
from bastion.audit import Actor
from bastion.core.errors import NotFoundError
from bastion.orgs import Organisation

ASKED = ("icb", "trust", "gp_practice", "care_provider", "arms_length_body", "supplier")
SHARES = {"exceeded": 0.07, "met": 0.65, "approaching": 0.27, "not_met": 0.01}


@dataclass(frozen=True)
class AssuranceReport:
    returns: int
    statuses: dict[str, int]
    scores: int
    readiness_first: float
    readiness_last: float


def _frameworks(session: Session, actor: Actor) -> tuple[assure.Framework, assure.Framework]:
    for name in assure.SHIPPED:
        try:
            assure.get_framework(session, name)
        except NotFoundError:  # not stored yet
            assure.store_framework(session, assure.shipped_library(name), actor=actor)
    return assure.get_framework(session, "dspt"), assure.get_framework(session, "cyber-essentials")


def _marks(framework: assure.Framework, kinds: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Answer marks per return: every mandatory item met, except one for the not-met kinds."""
    mandatory = np.array([s.category == "mandatory" for s in framework.statements])
    marks = np.where(mandatory, True, rng.random((len(kinds), len(mandatory))) < 0.6)
    short = np.isin(kinds, ["approaching", "not_met"])
    which = rng.choice(np.flatnonzero(mandatory), size=int(short.sum()))
    marks[np.flatnonzero(short), which] = False
    return marks


def load_demo_assurance(
    session: Session,
    organisations: Sequence[Organisation],
    *,
    actor: Actor,
    returns: int = 41_000,
    seed: int = 19,
) -> AssuranceReport:
    """Write the demo's year of returns and readiness history (see the module's docstring)."""
    dspt, ce = _frameworks(session, actor)
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    period, deadline = "2024-25", assure.period_deadline("2024-25")
    asked = [o for o in organisations if o.type.value in ASKED]
    codes = [o.code for o in asked] + [f"DM{i:05d}" for i in range(max(0, returns - len(asked)))]
    types = [o.type.value for o in asked] + list(
        rng.choice(["gp_practice", "care_provider"], len(codes) - len(asked), p=[0.3, 0.7])
    )
    regions = [f"Y{r}" for r in rng.choice([56, 58, 59, 60, 61, 62, 63], len(codes))]
    kinds = rng.choice(list(SHARES), len(codes), p=list(SHARES.values()))
    marks = _marks(dspt, kinds, rng)
    mark_rows = [
        bytes(r).decode("ascii") for r in np.where(marks, ord("1"), ord("0")).astype(np.uint8)
    ]
    facts = {
        "ce_plus_certificate": kinds == "exceeded",
        "improvement_plan_published": kinds == "approaching",
    }
    outcome = assure.outcome_codes(dspt, marks) + ord("0")
    overall = assure.return_codes(dspt, marks, facts)
    assert overall is not None  # the DSPT-style framework has a return rule
    published = rng.random(len(codes)) > 0.03
    late = published & (rng.random(len(codes)) < 0.08)
    when = [deadline - timedelta(days=int(d)) for d in rng.integers(0, 60, len(codes))]
    rows = [
        {"org_code": code, "period": period, "framework": dspt.ref, "org_type": types[i], "region": regions[i],
         "icb": "", "profile": dspt.profile_of(types[i]), "state": "published" if published[i] else "draft",
         "marks": mark_rows[i], "comments": {}, "evidence": {}, "owners": {},
         "facts": {"ce_plus_certificate": bool(facts["ce_plus_certificate"][i])},
         "version": int(published[i]), "status": dspt.return_statuses[int(overall[i])] if published[i] else None,
         "outcome_marks": bytes(outcome[i].astype(np.uint8)).decode("ascii") if published[i] else "",
         "published_at": (datetime(when[i].year, when[i].month, when[i].day, 12, tzinfo=UTC)
                          + timedelta(days=30 if late[i] else 0)) if published[i] else None,
         "deadline": deadline, "source": "demo", "drift": [], "drift_count": 0, "published_late": bool(late[i]),
         "created_at": now, "updated_at": now}
        for i, code in enumerate(codes)
    ]  # fmt: skip
    for start in range(0, len(rows), 5000):
        session.execute(insert(ReturnRow), rows[start : start + 5000])
    plans = [
        {"org_code": codes[i], "period": period, "framework_key": dspt.key, "outcome": "8",
         "text": "Apply critical and high updates within 14 days", "owner": "IT lead",
         "due": deadline + timedelta(days=90), "status": "open", "inherited_from": None, "created_at": now}
        for i in np.flatnonzero(kinds == "approaching")
    ]  # fmt: skip
    if plans:
        session.execute(insert(ActionRow), plans)
    scores = _readiness(
        session, ce, [o for o in asked if o.type.value in {"trust", "icb"}], rng, now
    )
    counts = dict(Counter(str(r["status"] or "Not Published") for r in rows))
    return AssuranceReport(len(rows), counts, scores[0], scores[1], scores[2])


def _readiness(
    session: Session,
    ce: assure.Framework,
    large: Sequence[Organisation],
    rng: np.random.Generator,
    now: datetime,
) -> tuple[int, float, float]:
    """A monthly readiness score per large organisation over a year, rising ~48 % to ~70 %."""
    if not large:
        return 0, 0.0, 0.0
    months = 12
    base = rng.normal(48.0, 12.0, len(large))
    rise = np.linspace(0.0, 22.0, months)
    scores = np.clip(
        base[:, None] + rise[None, :] + rng.normal(0, 4.0, (len(large), months)), 0, 100
    )
    rows = [
        {"org_code": o.code, "org_type": o.type.value, "at": now - timedelta(days=30 * (months - 1 - m)),
         "score": round(float(scores[i, m]), 2),
         "controls": {c.id: round(float(scores[i, m]), 2) for c in ce.outcomes}}
        for i, o in enumerate(large) for m in range(months)
    ]  # fmt: skip
    session.execute(insert(ScoreRow), rows)
    # Each large organisation's current Cyber Essentials answers, drawn at its latest score.
    met = rng.random((len(large), len(ce.statements))) < (scores[:, -1:] / 100.0)
    marks = [bytes(r).decode("ascii") for r in np.where(met, ord("1"), ord("0")).astype(np.uint8)]
    stamp = now
    session.execute(insert(ReturnRow), [
        {"org_code": o.code, "period": "2024-25", "framework": ce.ref, "org_type": o.type.value, "region": "",
         "icb": "", "profile": "baseline", "state": "draft", "marks": marks[i], "comments": {}, "evidence": {},
         "owners": {}, "facts": {}, "version": 0, "status": None, "outcome_marks": "", "published_at": None,
         "deadline": assure.period_deadline("2024-25"), "source": "demo", "drift": [], "drift_count": 0,
         "published_late": False, "created_at": stamp, "updated_at": stamp}
        for i, o in enumerate(large)
    ])  # fmt: skip
    return len(rows), round(float(scores[:, 0].mean()), 1), round(float(scores[:, -1].mean()), 1)
