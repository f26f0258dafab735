"""The national picture: statuses by region, ICB and type, late and missing returns, weakest
outcomes, readiness distribution and trend, drift; and a member's anonymised place among peers.

Counts are SQL aggregates read from covering indexes (``ix_assure_returns_board``
holds every column the status counts and the late list need; ``ix_assure_returns_marks``
the published outcome digits), so no query reads a return's wide row. The weakest
outcomes come from the outcome digits of every return, concatenated by the database
into one string and read as one byte matrix. Lists are ordered in Python: an ``ORDER BY org_code`` would make
SQLite walk the whole table in that index's order instead of searching the covering
one. Everything is confined to the caller's scope (a member sees only what its
organisations contribute).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import numpy as np
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from bastion import orgs
from bastion.assure.catalogue import get_framework
from bastion.assure.models import ReturnRow, ScoreRow
from bastion.core.errors import NotFoundError
from bastion.core.scope import Scope
from bastion.core.timeutil import utcnow
from bastion.store.membership import one_of

ASKED = ("icb", "trust", "gp_practice", "care_provider", "arms_length_body", "supplier")
BANDS = tuple(range(0, 100, 10))  # readiness histogram: 0-9, 10-19, ..., 90-100
NOT_PUBLISHED = "Not Published"
# Dashboards by what they were asked and the store's fingerprint: any change makes a new key.
_BOARDS: dict[tuple[object, ...], Dashboard] = {}


@dataclass(frozen=True)
class Dashboard:
    period: str
    framework: str
    statuses: dict[str, int]
    by_region: dict[str, dict[str, int]]
    by_icb: dict[str, dict[str, int]]
    by_type: dict[str, dict[str, int]]
    late: list[dict[str, object]]
    missing: list[str]
    weakest: list[dict[str, object]]
    readiness_bands: dict[str, int]
    readiness_trend: list[dict[str, object]]
    drift: list[dict[str, object]]


Where = tuple[ColumnElement[bool], ...]
Q = TypeVar("Q", bound=Select)  # type: ignore[type-arg]  # any select


def _filtered(query: Q, column: InstrumentedAttribute[str], scope: Scope) -> Q:
    return query if scope.codes is None else query.where(one_of(column, scope.codes))


def current_period(today: date) -> str:
    """Return the assessment period ``today`` falls in (July to June: 2024-25)."""
    start = today.year if today.month >= 7 else today.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def periods(session: Session, scope: Scope) -> list[str]:
    """Return the periods with returns in ``scope``, latest first."""
    query = _filtered(select(ReturnRow.period).distinct(), ReturnRow.org_code, scope)
    return sorted(session.scalars(query), reverse=True)


def dashboard(
    session: Session,
    scope: Scope,
    period: str | None = None,
    framework: str = "dspt",
    today: date | None = None,
) -> Dashboard:
    """Return the national dashboard of ``period`` (default: the latest) for ``framework``."""
    moment = today or utcnow().date()
    chosen = period or next(iter(periods(session, scope)), None) or current_period(moment)
    key = (str(scope), chosen, framework, moment, _fingerprint(session))
    cached = _BOARDS.get(key)
    if cached is None:
        cached = _board(session, scope, chosen, framework, moment)
        if len(_BOARDS) >= 64:
            _BOARDS.clear()
        _BOARDS[key] = cached
    return cached


def _fingerprint(session: Session) -> tuple[object, ...]:
    """What changes whenever any dashboard figure could: one aggregate query, no rows read."""
    returns = select(
        func.count(), func.max(ReturnRow.updated_at), func.max(ReturnRow.id)
    ).select_from(ReturnRow)
    scores = select(func.count(), func.max(ScoreRow.id)).select_from(ScoreRow)
    return (
        *session.execute(returns).one(),
        *session.execute(scores).one(),
        orgs.count_organisations(session),
    )


def _board(session: Session, scope: Scope, chosen: str, framework: str, moment: date) -> Dashboard:
    ref = framework if "@" in framework else _stored_ref(session, framework)
    same: Where = (
        ReturnRow.period == chosen,
        ReturnRow.framework.like(f"{ref.partition('@')[0]}@%"),
    )
    # Grouped in the board index's own column order: SQLite streams the groups off the index
    # instead of sorting 41,000 entries into a temporary tree (three times faster).
    keys = (
        ReturnRow.framework,
        ReturnRow.org_type,
        ReturnRow.region,
        ReturnRow.icb,
        ReturnRow.status,
    )
    query = _filtered(select(*keys, func.count()).where(*same), ReturnRow.org_code, scope)
    grouped = session.execute(query.group_by(*keys)).all()
    totals: Counter[str] = Counter()
    by: dict[str, dict[str, Counter[str]]] = {"region": defaultdict(Counter), "icb": defaultdict(Counter),
                                              "type": defaultdict(Counter)}  # fmt: skip
    for _, org_type, region, icb, published, n in grouped:
        name = published or NOT_PUBLISHED
        totals[name] += n
        by["region"][region or "(none)"][name] += n
        by["icb"][icb or "(none)"][name] += n
        by["type"][org_type][name] += n
    tables = {d: {k: dict(v) for k, v in sorted(by[d].items())} for d in ("region", "icb", "type")}
    bands, trend = _readiness(session, scope)
    return Dashboard(
        period=chosen, framework=ref, statuses=dict(totals), by_region=tables["region"],
        by_icb=tables["icb"], by_type=tables["type"], late=_late(session, scope, same, moment),
        missing=_missing(session, scope, chosen), weakest=_weakest(session, scope, same, ref),
        readiness_bands=bands, readiness_trend=trend, drift=_drift(session, scope),
    )  # fmt: skip


def _late(session: Session, scope: Scope, same: Where, today: date) -> list[dict[str, object]]:
    """Returns published after their deadline, and those not published by it."""
    overdue = or_(
        ReturnRow.published_late, and_(ReturnRow.published_at.is_(None), ReturnRow.deadline < today)
    )
    query = select(ReturnRow.org_code, ReturnRow.published_at, ReturnRow.deadline).where(
        *same, overdue
    )
    rows = session.execute(_filtered(query, ReturnRow.org_code, scope))
    return [
        {"org": code, "published_at": published, "deadline": deadline}
        for code, published, deadline in sorted(rows, key=lambda r: str(r[0]))
    ]


def _missing(session: Session, scope: Scope, period: str) -> list[str]:
    """Organisations of the federation asked for a return with none for the period."""
    listed, _ = orgs.list_organisations(session, codes=scope.codes)
    asked = [o.code for o in listed if o.type.value in ASKED]
    have: set[str] = set()
    for start in range(0, len(asked), 500):  # only the federation's codes, not every return's
        chunk = asked[start : start + 500]
        have.update(session.scalars(select(ReturnRow.org_code).where(ReturnRow.period == period,
                                                                     ReturnRow.org_code.in_(chunk))))  # fmt: skip
    return sorted(set(asked) - have)


def _stored_ref(session: Session, key: str) -> str:
    """Return the latest stored version of framework ``key``, or ``key`` before any is stored.

    So a new installation's dashboard is empty, not missing.
    """
    try:
        return get_framework(session, key).ref
    except NotFoundError:
        return key


def _weakest(
    session: Session, scope: Scope, same: Where, ref: str, limit: int = 10
) -> list[dict[str, object]]:
    try:
        framework = get_framework(session, ref)
    except NotFoundError:  # not stored yet: nothing to rank
        return []
    width = len(framework.outcomes)
    # Every published return's outcome digits, concatenated by the database into one string:
    # one row to read, not 41,000 (making a Python row and string of each was most of the time).
    query = select(func.aggregate_strings(ReturnRow.outcome_marks, "")).where(
        *same, ReturnRow.framework == ref, func.length(ReturnRow.outcome_marks) == width
    )
    joined = session.execute(_filtered(query, ReturnRow.org_code, scope)).scalar() or ""
    if not joined:
        return []
    digits = np.frombuffer(joined.encode("ascii"), np.uint8).reshape(-1, width)
    short = (digits != ord("0")).mean(axis=0)  # "0" is the best status
    order = np.argsort(-short, kind="stable")[:limit]
    return [
        {"outcome": framework.outcomes[i].id, "title": framework.outcomes[i].title,
         "share_not_best": round(float(short[i]), 4), "returns": len(digits)}
        for i in order
    ]  # fmt: skip


def latest_scores(session: Session, scope: Scope, org_type: str | None = None) -> dict[str, float]:
    """Return each organisation's latest readiness score (of ``org_type``, if given)."""
    query = _filtered(select(ScoreRow.org_code, ScoreRow.score), ScoreRow.org_code, scope)
    if org_type is not None:
        query = query.where(ScoreRow.org_type == org_type)
    return {str(o): float(s) for o, s in session.execute(query.order_by(ScoreRow.at, ScoreRow.id))}


def _readiness(session: Session, scope: Scope) -> tuple[dict[str, int], list[dict[str, object]]]:
    """The latest scores' bands and the monthly means, from one read of the score history."""
    query = select(ScoreRow.org_code, ScoreRow.at, ScoreRow.score)
    history = session.execute(
        _filtered(query, ScoreRow.org_code, scope).order_by(ScoreRow.at, ScoreRow.id)
    )
    latest: dict[str, float] = {}
    months: dict[str, list[float]] = defaultdict(list)
    for org, at, score in history:
        latest[org] = score
        months[at.strftime("%Y-%m")].append(score)
    bands = Counter(min(int(s // 10) * 10, 90) for s in latest.values())
    trend: list[dict[str, object]] = [
        {"month": m, "mean": round(sum(v) / len(v), 2), "scores": len(v)}
        for m, v in sorted(months.items())
    ]
    return {f"{b}-{b + 9 if b < 90 else 100}": bands.get(b, 0) for b in BANDS}, trend


def _drift(session: Session, scope: Scope) -> list[dict[str, object]]:
    query = select(
        ReturnRow.id, ReturnRow.org_code, ReturnRow.framework, ReturnRow.drift_count
    ).where(ReturnRow.drift_count > 0)
    rows = sorted(
        session.execute(_filtered(query, ReturnRow.org_code, scope)), key=lambda r: (r[1], r[0])
    )
    return [{"return": i, "org": o, "framework": f, "flags": n} for i, o, f, n in rows]


@dataclass(frozen=True)
class PeerPosition:
    """Where one organisation stands among peers of its type, without naming any peer."""

    org: str
    org_type: str
    period: str
    status: str | None
    peers: int
    peer_statuses: dict[str, int]
    readiness: float | None
    readiness_percentile: float | None  # share of peers with a lower latest score


def peer_position(
    session: Session, org: str, scope: Scope, period: str | None = None
) -> PeerPosition:
    """Return ``org``'s status and readiness against the counts of its peers (same type)."""
    code = org.strip().upper()
    if not scope.allows(code):
        msg = f"no organisation with code {code!r}"
        raise NotFoundError(msg)
    mine = session.scalars(
        select(ReturnRow).where(ReturnRow.org_code == code, ReturnRow.framework.like("dspt@%"))
        .where(ReturnRow.period == period if period else ReturnRow.period != "")
        .order_by(ReturnRow.period.desc())
    ).first()  # fmt: skip
    if mine is None:
        msg = f"{code} has no DSPT return{' for ' + period if period else ''}"
        raise NotFoundError(msg)
    status = func.coalesce(ReturnRow.status, NOT_PUBLISHED)
    counts = session.execute(
        select(status, func.count()).where(
            ReturnRow.period == mine.period, ReturnRow.org_type == mine.org_type,
            ReturnRow.framework == mine.framework, ReturnRow.org_code != code,
        ).group_by(status)
    ).all()  # fmt: skip
    scores = latest_scores(session, Scope.everything(), mine.org_type)
    own = scores.pop(code, None)
    below = sum(s < own for s in scores.values()) if own is not None else 0
    return PeerPosition(
        code, mine.org_type, mine.period, mine.status, sum(n for _, n in counts), {str(s): int(n) for s, n in counts},
        own, round(below / len(scores), 4) if own is not None and scores else None,
    )  # fmt: skip
