"""What an overview shows of the alerts since a moment, aggregated by the database.

Alerts per day (UTC, by last seen) and how many of them were blocked, the
organisations with the most events, and the rules and indicators with the most
events: a few grouped queries, never the alerts themselves read row by row.

A national summary from a UTC midnight (the overview's fortnight) reads the whole
past days from a roll-up, ``alert_summary``: their national sums by day,
organisation, rule and indicator. Each change to what is summed of a day's alerts
``touch``-es that day (by last seen, in ``alert_summary_days``; see
``bastion.alerts.rollup``) in the transaction of the change: a new alert
(``record_alerts``, ``raise_external``), an alert extended by new events (its
events, its last seen moved off one day onto another, its verdict gone live, its
indicator filled in). Triage changes none of these figures. ``alert_summary_state``
records which days the roll-up sums and the sum of their versions, read before the
alerts are: a change committed meanwhile leaves it stale, never a stale roll-up
taken for current. A stale or other period is summed again by its next reader, in one
pass over the alerts. Today, ever changing, is summed from the alerts (its part of
``ix_alerts_seen_summary``) and added: a top list is the roll-up's own top plus
today's groups, each with its past sum joined from the roll-up (by ``head``), which is
exact.

The roll-up sums the past days as one, not day by day: a national fortnight of
36,000 alerts (``bench.console``'s) has as many organisations' and 26,000 rules' sums,
so daily rows would be as many to add up on every overview as the alerts themselves.
A member's summary is read from its alerts: its fortnight is a few hundred alerts,
through the organisation's index (its overview's p95: 19 ms in ``bench.console``'s
idle run at full size, before this roll-up).

The rules page's national counts of the week's rule alerts by rule
(``count_rule_alerts``) are a second roll-up of the same kind, kept current by the
same touches: ``alert_rule_summary`` counts the week's whole past days (its own row,
id 2, of ``alert_summary_state``), and the part day before them and today are counted
from the alerts (a week from now, not from a midnight: about a day's alerts in all).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Table,
    and_,
    case,
    delete,
    func,
    literal_column,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from bastion.alerts.models import (
    AlertRow,
    AlertRuleSummaryRow,
    AlertSummaryRow,
    AlertSummaryStateRow,
    AlertVerdictDayRow,
)
from bastion.alerts.queries import AlertFilter, count_alerts
from bastion.alerts.rollup import (
    ORG,
    SEEN_DAYS,
    as_date,
    midnight,
    runs,
    upsert,
    whole_days,
)
from bastion.alerts.store import Verdict
from bastion.core.timeutil import as_utc, utcnow
from bastion.store.dialect import in_byte_order, is_postgres, utc_day

SUMMARY = cast(Table, AlertSummaryRow.__table__)
STATE = cast(Table, AlertSummaryStateRow.__table__)
RULE_SUMMARY = cast(Table, AlertRuleSummaryRow.__table__)
VERDICT_DAYS = cast(Table, AlertVerdictDayRow.__table__)
KINDS = ("day", "org", "rule", "indicator")
HEAD = 64  # characters of a name in ``alert_summary.head``


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


def _rule_counts(session: Session, where: Sequence[ColumnElement[bool]]) -> Select[Any]:
    """Return the counts of the rule alerts ``where`` keeps by the rule their key names:
    family (``sigma:`` or ``builtin:``), rule and alerts (see ``count_rule_alerts``)."""
    key = AlertRow.key
    family = func.substr(key, literal_column("1"), literal_column(str(len(BUILTIN))))
    sigma = func.substr(key, literal_column("1"), literal_column(str(len(SIGMA)))) == _text(SIGMA)
    prefix = case((sigma, _text(SIGMA)), else_=family)
    ident = case(
        (sigma, _word(session, key, len(SIGMA) + 1, " {")),
        else_=_text(BUILTIN).concat(_word(session, key, len(BUILTIN) + 1, ":")),
    )
    return (
        select(prefix.label("family"), ident.label("rule"), func.count().label("alerts"))
        .where(*where, AlertRow.kind == "rule", or_(sigma, family == _text(BUILTIN)))
        .group_by(prefix, ident)
    )


def rule_alerts_from_alerts(
    session: Session, *, since: datetime, orgs: Sequence[str] | None
) -> list[tuple[str, str, int]]:
    """``count_rule_alerts`` of every rule, counted from the alerts themselves."""
    where = AlertFilter(orgs=orgs, since=since).clauses()
    return [(str(f), str(r), int(n)) for f, r, n in session.execute(_rule_counts(session, where))]


def count_rule_alerts(
    session: Session,
    *,
    since: datetime,
    orgs: Sequence[str] | None,
    rules: Collection[str] | None = None,
) -> list[tuple[str, str, int]]:
    """Count the rule alerts last seen since ``since`` in ``orgs`` (None: everywhere) by the
    rule their key names, grouped by the database (a national week is tens of thousands of
    keys, an indicator's each): ``("sigma:", rule id, n)`` for a Sigma rule's keys
    (``sigma:<id>``, a correlation's ``sigma:<id> {<group>}``), ``("builtin:",
    "builtin:<check>", n)`` for a built-in check's (``builtin:<check>:<observable>``).
    Other keys are left out, and with ``rules`` every rule not among them.

    Nationally, the whole past days since ``since`` are counted once into
    ``alert_rule_summary``, kept current as the overview's roll-up is (see the module);
    the part day before them and today are counted from the alerts and added. A
    member's week is a few hundred alerts, counted from them."""
    start, now = as_utc(since), utcnow()
    first, end = whole_days(start, now, now.date())
    if orgs is not None or first >= end:
        found = rule_alerts_from_alerts(session, since=since, orgs=orgs)
        return [(f, r, n) for f, r, n in found if rules is None or r in rules]
    refresh_summary(session, first, end, RULE_COUNTS)
    past = select(RULE_SUMMARY.c.family, RULE_SUMMARY.c.rule, RULE_SUMMARY.c.alerts)
    counts = {
        (str(f), str(r)): int(n)
        for f, r, n in session.execute(
            past if rules is None else past.where(RULE_SUMMARY.c.rule.in_(sorted(rules)))
        )
    }
    for where in (
        [AlertRow.last_seen >= start, AlertRow.last_seen < midnight(first)],
        [AlertRow.last_seen >= midnight(end)],
    ):
        for f, r, n in session.execute(_rule_counts(session, where)):
            if rules is None or r in rules:
                counts[str(f), str(r)] = counts.get((str(f), str(r)), 0) + int(n)
    return [(f, r, n) for (f, r), n in counts.items()]


def _groups(session: Session, kind: str) -> tuple[Any, Any, list[ColumnElement[bool]]]:
    """Return what the alerts of ``kind`` are summed by (a name, and a label or None) and
    which alerts it sums: by day, organisation (those with one), rule or indicator."""
    if kind == "day":
        return sql_cast(utc_day(session, AlertRow.last_seen), String), None, []
    if kind == "org":
        return ORG, None, [_text("") != ORG]
    is_rule = or_(
        AlertRow.kind == "rule", func.coalesce(AlertRow.indicator_type, "") == "sigma-rule"
    )
    if kind == "rule":
        return _rule_ident(session), AlertRow.title, [is_rule]
    return (
        AlertRow.indicator_value,
        func.coalesce(AlertRow.indicator_type, _text("")),
        [not_(is_rule), func.coalesce(AlertRow.indicator_value, "") != ""],
    )


def _grouped(session: Session, kind: str, where: Sequence[ColumnElement[bool]]) -> Select[Any]:
    """Return the sums of the alerts ``where`` keeps by ``kind``: name, label, alerts,
    blocked alerts and events (grouped by the expressions: PostgreSQL must see the
    selected ones, their literals inlined, as the same; SQLite then reads a period's
    days and organisations from ``ix_alerts_seen_summary``)."""
    name, label, which = _groups(session, kind)
    blocked = func.sum(case((AlertRow.verdict == Verdict.BLOCKED.value, 1), else_=0))
    return (
        select(
            name.label("name"),
            (_text("") if label is None else label).label("label"),
            func.count().label("alerts"),
            func.coalesce(blocked, 0).label("blocked"),
            func.sum(AlertRow.count).label("events"),
        )
        .where(*where, *which)
        .group_by(name, *(() if label is None else (label,)))
    )


Top = list[tuple[str, str, int]]  # name, label, events; most events first


def _summary(per_day: dict[date, tuple[int, int]], tops: dict[str, Top], top: int) -> AlertSummary:
    sources = [Source("rule", n, label or n, e) for n, label, e in tops["rule"]]
    sources += [
        Source("indicator", f"{k}:{v}", f"{k} {v}".strip(), e) for v, k, e in tops["indicator"]
    ]
    sources.sort(key=lambda s: -s.events)
    return AlertSummary(per_day, [(n, e) for n, _, e in tops["org"]], sources[:top])


def _days(rows: Any) -> dict[date, tuple[int, int]]:
    return {date.fromisoformat(str(n)): (int(a), int(b)) for n, _, a, b, _ in rows}


def from_alerts(
    session: Session, *, orgs: Sequence[str] | None, since: datetime, top: int
) -> AlertSummary:
    """Summarise the alerts last seen since ``since`` in ``orgs`` (None: everywhere) from
    the alerts themselves."""
    where = AlertFilter(orgs=orgs, since=since).clauses()
    tops: dict[str, Top] = {}
    for kind in KINDS[1:]:
        found = _grouped(session, kind, where).subquery()
        tops[kind] = [
            (str(n), str(label), int(e))
            for n, label, e in session.execute(
                select(found.c.name, found.c.label, found.c.events)
                .order_by(
                    found.c.events.desc(), *in_byte_order(session, found.c.name, found.c.label)
                )
                .limit(top)
            )
        ]
    return _summary(_days(session.execute(_grouped(session, "day", where))), tops, top)


@dataclass(frozen=True)
class Rollup:
    """A national roll-up of the alerts last seen in whole past days: its ``table``, its row
    of ``alert_summary_state`` and the ``sums`` of a span of alerts it holds (queries of
    the table's columns but its id, in ``columns``' order)."""

    state: int
    table: Table
    columns: tuple[str, ...]
    sums: Callable[[Session, list[ColumnElement[bool]]], list[Select[Any]]]


def _overview_sums(session: Session, span: list[ColumnElement[bool]]) -> list[Select[Any]]:
    found = []
    for kind in KINDS:
        sums = _grouped(session, kind, span).subquery()
        found.append(
            select(_text(kind).label("kind"), sums.c.name, sums.c.label,
                   func.substr(sums.c.name, 1, HEAD).label("head"),
                   *sums.c["alerts", "blocked", "events"])
        )  # fmt: skip
    return found


OVERVIEW = Rollup(
    1, SUMMARY, ("kind", "name", "label", "head", "alerts", "blocked", "events"), _overview_sums
)
RULE_COUNTS = Rollup(
    2,
    RULE_SUMMARY,
    ("family", "rule", "alerts"),
    lambda session, span: [_rule_counts(session, span)],
)


def count_alerts_live(session: Session, *, orgs: Sequence[str] | None) -> tuple[int, int]:
    """Return how many alerts ``orgs`` (None: everywhere) have, and how many of them are
    live. Nationally (a million alerts, counted on every overview), those last seen on
    the past days are counted by day into ``alert_verdict_days``, each day again only
    when its version moved (``refresh_verdicts``), and today's are added; a member's
    are counted through its organisation's index."""
    if orgs is not None:
        lives = count_alerts(session, AlertFilter(orgs=orgs, verdict=Verdict.LIVE.value))
        return count_alerts(session, AlertFilter(orgs=orgs)), lives
    today = utcnow().date()
    refresh_verdicts(session, today)
    counted = VERDICT_DAYS.c
    past_alerts, past_live = session.execute(
        select(func.coalesce(func.sum(counted.alerts), 0), func.coalesce(func.sum(counted.live), 0))
        .where(counted.day < today)
    ).one()  # fmt: skip
    # Today's not grouped by verdict: SQLite would then walk ``ix_alerts_verdict`` whole
    # rather than today's range of ``ix_alerts_seen_summary``.
    alerts, lives = session.execute(
        select(func.count(), func.coalesce(_LIVE, 0)).where(AlertRow.last_seen >= midnight(today))
    ).one()
    return int(past_alerts) + int(alerts), int(past_live) + int(lives)


_LIVE = func.sum(case((AlertRow.verdict == Verdict.LIVE.value, 1), else_=0))


def refresh_verdicts(session: Session, today: date) -> int:
    """Count again the alerts last seen on each past day whose count is not current (its
    version in ``alert_summary_days`` moved, or it has no count yet); return how many days.

    A change to a past day costs a count of that day's alerts alone (a run of such days,
    one grouped query), never of the whole history. The first count after the upgrade,
    when nothing is counted yet, counts every past day once; a day it finds no version
    for is given version 0 there, so any later change to it is seen. Each day is stored
    at the version read before its alerts were: a change committed meanwhile leaves it
    stale for the next reader, never a stale count taken for current.
    """
    counted = VERDICT_DAYS
    past = SEEN_DAYS.c.day < today
    if session.scalar(select(counted.c.day).limit(1)) is None:
        versions = {
            as_date(d): int(v)
            for d, v in session.execute(select(SEEN_DAYS.c.day, SEEN_DAYS.c.version).where(past))
        }
        found = _verdicts_by_day(session, None, midnight(today))
        untracked = sorted(set(found) - set(versions))
        if untracked:
            session.execute(
                upsert(session)(SEEN_DAYS).on_conflict_do_nothing(index_elements=["day"]),
                [{"day": d, "version": 0} for d in untracked],
            )
        versions |= dict.fromkeys(untracked, 0)
    else:
        current = or_(counted.c.version.is_(None), counted.c.version != SEEN_DAYS.c.version)
        versions = {
            as_date(d): int(v)
            for d, v in session.execute(
                select(SEEN_DAYS.c.day, SEEN_DAYS.c.version)
                .select_from(SEEN_DAYS.outerjoin(counted, counted.c.day == SEEN_DAYS.c.day))
                .where(past, current)
            )
        }
        found = {}
        for start, stop in runs(sorted(versions)):
            found |= _verdicts_by_day(session, midnight(start), midnight(stop))
    if not versions:
        return 0
    statement = upsert(session)(counted)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["day"],
            set_={c: statement.excluded[c] for c in ("version", "alerts", "live")},
        ),
        [
            {
                "day": d,
                "version": v,
                "alerts": found.get(d, (0, 0))[0],
                "live": found.get(d, (0, 0))[1],
            }
            for d, v in sorted(versions.items())
        ],
    )
    return len(versions)


def _verdicts_by_day(
    session: Session, start: datetime | None, stop: datetime
) -> dict[date, tuple[int, int]]:
    """Return the alerts last seen in ``[start, stop)`` (None: since ever) by UTC day: how
    many, and how many live."""
    day = utc_day(session, AlertRow.last_seen)
    span = [AlertRow.last_seen < stop] + ([AlertRow.last_seen >= start] if start else [])
    return {
        as_date(d): (int(n), int(live))
        for d, n, live in session.execute(
            select(day, func.count(), _LIVE).where(*span).group_by(day)
        )
    }


def refresh_summary(session: Session, first: date, end: date, rollup: Rollup = OVERVIEW) -> bool:
    """Sum the alerts last seen in the days ``[first, end)`` into ``rollup`` again, unless it
    sums those days at their versions; return whether it did."""

    def versions() -> int:
        in_range = and_(SEEN_DAYS.c.day >= first, SEEN_DAYS.c.day < end)
        return int(session.scalar(select(func.sum(SEEN_DAYS.c.version)).where(in_range)) or 0)

    mine = STATE.c.id == rollup.state
    state = select(STATE.c.first_day, STATE.c.end_day, STATE.c.versions).where(mine)
    if tuple(session.execute(state).first() or ()) == (first, end, versions()):
        return False
    # Stale: hold the state's row (on PostgreSQL a second reader waits, then finds it done).
    session.execute(upsert(session)(STATE).values(id=rollup.state).on_conflict_do_nothing())
    held = tuple(session.execute(state.with_for_update()).one())
    wanted = (first, end, versions())  # read before the alerts: a change meanwhile is newer
    if held == wanted:
        return False
    session.execute(delete(rollup.table))
    span = [AlertRow.last_seen >= midnight(first), AlertRow.last_seen < midnight(end)]
    # Ids numbered from 1 each time, not drawn from a sequence: a fortnight is ~60,000
    # rows, and summed again a few hundred times a day that would run a 32-bit id out.
    for sums in rollup.sums(session, span):
        rows = sums.subquery()
        last = session.scalar(select(func.coalesce(func.max(rollup.table.c.id), 0)))
        session.execute(
            rollup.table.insert().from_select(
                ["id", *rollup.columns], select(func.row_number().over() + last, *rows.c)
            )
        )
    session.execute(
        update(STATE).where(mine).values(first_day=first, end_day=end, versions=wanted[2])
    )
    return True


def _rolled_top(session: Session, kind: str, today: date, top: int) -> Top:
    """The ``top`` of ``kind`` over the roll-up's days and today: the roll-up's own top,
    and each of today's groups with its sum in the roll-up added. Exact: a group not seen
    today has its past sum alone, no more than the last of the roll-up's top, and each
    of that top has at least as much (ties go by name, in the same order everywhere)."""
    past = SUMMARY
    best = (
        select(past.c.name, past.c.label, past.c.events)
        .where(past.c.kind == kind)
        .order_by(past.c.events.desc(), *in_byte_order(session, past.c.name, past.c.label))
        .limit(top)
    )
    live = _grouped(session, kind, [AlertRow.last_seen >= midnight(today)]).subquery()
    same = and_(
        past.c.kind == kind,
        past.c.head == func.substr(live.c.name, 1, HEAD),
        past.c.name == live.c.name,
        past.c.label == live.c.label,
    )
    added = select(live.c.name, live.c.label, live.c.events + func.coalesce(past.c.events, 0))
    totals = {(str(n), str(label)): int(e) for n, label, e in session.execute(best)}
    totals |= {
        (str(n), str(label)): int(e)
        for n, label, e in session.execute(added.select_from(live.outerjoin(past, same)))
    }
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return [(n, label, e) for (n, label), e in ranked[:top]]


def summarise_alerts(
    session: Session, *, orgs: Sequence[str] | None, since: datetime, top: int
) -> AlertSummary:
    """Summarise the alerts last seen since ``since`` in ``orgs`` (None: everywhere): national
    and from a UTC midnight before today, the past days from the roll-up (see the module)."""
    start, today = as_utc(since), utcnow().date()
    if orgs is not None or start != midnight(start.date()) or start.date() >= today:
        return from_alerts(session, orgs=orgs, since=since, top=top)
    refresh_summary(session, start.date(), today)
    past = select(SUMMARY.c.name, SUMMARY.c.label, *SUMMARY.c["alerts", "blocked", "events"])
    per_day = _days(session.execute(past.where(SUMMARY.c.kind == "day")))
    per_day |= _days(
        session.execute(_grouped(session, "day", [AlertRow.last_seen >= midnight(today)]))
    )
    tops = {kind: _rolled_top(session, kind, today, top) for kind in KINDS[1:]}
    return _summary(per_day, tops, top)
