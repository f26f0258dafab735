"""What an overview shows of the alerts since a moment, aggregated by the database.

Alerts per day (UTC, by last seen) and how many of them were blocked, the
organisations with the most events, and the rules and indicators with the most
events: a few grouped queries, never the alerts themselves read row by row (a
national fortnight is tens of thousands of alerts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal_column, not_, or_, select
from sqlalchemy.orm import Session

from bastion.alerts.models import AlertRow
from bastion.alerts.queries import AlertFilter
from bastion.alerts.rollup import ORG, is_postgres, utc_day
from bastion.alerts.store import Verdict


@dataclass(frozen=True)
class Source:
    """A rule or an indicator alerts name, and the events of those alerts.

    A rule's ``ident`` is its id (a Sigma rule's, from the indicator value or the
    key), its ``label`` the alerts' title; an indicator's ident is ``type:value``.
    """

    kind: str  # "rule" or "indicator"
    ident: str
    label: str
    events: int


@dataclass(frozen=True)
class AlertSummary:
    """Alerts and blocked alerts per day, and the top organisations and sources by events."""

    per_day: dict[date, tuple[int, int]]
    top_orgs: list[tuple[str, int]]
    top_sources: list[Source]


def _text(value: str) -> ColumnElement[Any]:
    """A string literal inlined (PostgreSQL matches a GROUP BY expression to the selected
    one only when their literals are not separate parameters)."""
    return literal_column("'" + value.replace("'", "''") + "'")


def _rule_ident(session: Session) -> ColumnElement[Any]:
    """The rule an alert names: its indicator value, else its key without ``sigma:`` up to
    the first space (a correlation's key is ``<rule> <group>``)."""
    key = AlertRow.key
    bare = case(
        (func.substr(key, literal_column("1"), literal_column("6")) == _text("sigma:"),
         func.substr(key, literal_column("7"))),
        else_=key,
    )  # fmt: skip
    spaced = bare.concat(_text(" "))
    space = func.strpos(spaced, _text(" ")) if is_postgres(session) else func.instr(spaced, " ")
    word = func.substr(bare, literal_column("1"), space - literal_column("1"))
    return case(
        (func.coalesce(AlertRow.indicator_value, _text("")) != _text(""), AlertRow.indicator_value),
        else_=word,
    )


def _word(session: Session, text: Any, start: int, end: str) -> ColumnElement[Any]:
    """``text`` from character ``start`` (1-based) up to before the first ``end`` after it."""
    rest = func.substr(text, literal_column(str(start)))
    ended = rest.concat(_text(end))
    at = func.strpos(ended, _text(end)) if is_postgres(session) else func.instr(ended, end)
    return func.substr(rest, literal_column("1"), at - literal_column("1"))


SIGMA, BUILTIN = "sigma:", "builtin:"


def count_rule_alerts(
    session: Session, *, since: datetime, orgs: Sequence[str] | None
) -> list[tuple[str, str, int]]:
    """Count the rule alerts last seen since ``since`` in ``orgs`` (None: everywhere) by the
    rule their key names, grouped by the database (a national week is tens of thousands of
    keys, an indicator's each): ``("sigma:", rule id, n)`` for a Sigma rule's keys
    (``sigma:<id>``, a correlation's ``sigma:<id> {<group>}``), ``("builtin:",
    "builtin:<check>", n)`` for a built-in check's (``builtin:<check>:<observable>``).
    Other keys are left out."""
    key = AlertRow.key
    family = func.substr(key, literal_column("1"), literal_column(str(len(BUILTIN))))
    sigma = func.substr(key, literal_column("1"), literal_column(str(len(SIGMA)))) == _text(SIGMA)
    prefix = case((sigma, _text(SIGMA)), else_=family)
    ident = case(
        (sigma, _word(session, key, len(SIGMA) + 1, " {")),
        else_=_text(BUILTIN).concat(_word(session, key, len(BUILTIN) + 1, ":")),
    )
    where = AlertFilter(orgs=orgs, since=since).clauses()
    rows = session.execute(
        select(prefix, ident, func.count())
        .where(*where, AlertRow.kind == "rule", or_(sigma, family == _text(BUILTIN)))
        .group_by(prefix, ident)
    )
    return [(str(p), str(i), int(n)) for p, i, n in rows]


def summarise_alerts(
    session: Session, *, orgs: Sequence[str] | None, since: datetime, top: int
) -> AlertSummary:
    """Summarise the alerts last seen since ``since`` in ``orgs`` (None: everywhere)."""
    where = AlertFilter(orgs=orgs, since=since).clauses()
    day = utc_day(session, AlertRow.last_seen)
    blocked = func.sum(case((AlertRow.verdict == Verdict.BLOCKED.value, 1), else_=0))
    per_day = {
        d if isinstance(d, date) else date.fromisoformat(str(d)): (int(n), int(b or 0))
        for d, n, b in session.execute(
            select(day, func.count(), blocked).where(*where).group_by(day)
        )
    }
    events = func.sum(AlertRow.count)
    # Grouped by the expression, not the column: SQLite then reads the fortnight from
    # ix_alerts_seen_summary rather than skipping through every organisation's alerts.
    top_orgs = [
        (str(code), int(n))
        for code, n in session.execute(
            select(ORG, events)
            .where(*where, _text("") != ORG)
            .group_by(ORG)
            .order_by(events.desc(), ORG)
            .limit(top)
        )
    ]
    is_rule = or_(
        AlertRow.kind == "rule", func.coalesce(AlertRow.indicator_type, "") == "sigma-rule"
    )
    ident = _rule_ident(session)
    rules = session.execute(
        select(ident, AlertRow.title, events)
        .where(*where, is_rule)
        .group_by(ident, AlertRow.title)
        .order_by(events.desc())
        .limit(top)
    )
    sources = [Source("rule", str(i), str(t or i), int(n)) for i, t, n in rules]
    kind = func.coalesce(AlertRow.indicator_type, _text(""))
    indicators = session.execute(
        select(kind, AlertRow.indicator_value, events)
        .where(*where, not_(is_rule), func.coalesce(AlertRow.indicator_value, "") != "")
        .group_by(kind, AlertRow.indicator_value)
        .order_by(events.desc())
        .limit(top)
    )
    sources += [
        Source("indicator", f"{k}:{v}", f"{k} {v}".strip(), int(n)) for k, v, n in indicators
    ]
    sources.sort(key=lambda s: -s.events)
    return AlertSummary(per_day, top_orgs, sources[:top])
