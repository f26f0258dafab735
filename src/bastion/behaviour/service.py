"""The door of behavioural hunting: hunt days of the archive, keep results, raise alerts.

``hunt_days`` analyses each day (``bastion.behaviour.analyse``), keeps every
result at or above the floor (again the same day replaces, never duplicates),
marks those the allow-list covers ``allowed``, and raises one alert of kind
``behaviour`` per open result at or above the threshold through the one alert
store, with the pair's events as its evidence (so its count, first and last
seen are the pair's). The scheduled run (``hunt_new_days``) hunts the days not
hunted yet, up to yesterday, and remembers them; a retro-hunt names older days.
Each hunted day is one ``behaviour.hunt`` event in the audit trail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion import audit
from bastion.alerts import record_alerts
from bastion.audit import Actor
from bastion.behaviour import evidence
from bastion.behaviour.allowlist import covering, list_allowed
from bastion.behaviour.analyse import analyse_day
from bastion.behaviour.config import DEFAULT_CONFIG, BehaviourConfig
from bastion.behaviour.models import BehaviourDayRow, BehaviourResultRow
from bastion.behaviour.reading import archive_days, day_slices
from bastion.core.events import AlertKind
from bastion.core.scope import Scope
from bastion.core.timeutil import utcnow

OPEN, ALLOWED, BENIGN = "open", "allowed", "benign"


@dataclass
class HuntReport:
    """What one hunt did, per day."""

    days: list[date] = field(default_factory=list)
    results: int = 0
    alerting: int = 0
    allowed: int = 0
    alerts_created: int = 0


def _severity(result: dict[str, Any]) -> str:
    return "high" if result["orgs"] > 1 or result["score"] >= 0.9 else "medium"


def _candidates(result: dict[str, Any], events: pl.DataFrame) -> pl.DataFrame:
    title = (
        f"Behaviour: {result['analytic']} from {result['host']} to {result['dest']} "
        f"(score {result['score']:.2f}"
        + (f", {result['orgs']} organisations" if result["orgs"] > 1 else "")
        + ")"
    )
    return events.select(
        pl.col("org").alias("organization.id"),
        pl.col("host").alias("host.ip"),
        pl.col("ts").alias("@timestamp"),
        pl.lit(AlertKind.BEHAVIOUR.value).alias("kind"),
        pl.lit(f"behaviour:{result['analytic']}:{result['dest']}").alias("key"),
        pl.lit(title).alias("title"),
        pl.lit(_severity(result)).alias("severity"),
        # as the verdict stage says: the device blocked what it denied
        (pl.col("event.type") == "denied").fill_null(value=False).alias("blocked"),
        "event.original",
        "log.file.path",
        "log.offset",
        "event.dataset",
        pl.lit(result["remote"] or result["dest"]).alias("observable"),
    )


def _store(
    session: Session, day: date, result: dict[str, Any], status: str, proof: dict[str, Any]
) -> None:
    row = session.scalar(
        select(BehaviourResultRow).where(
            BehaviourResultRow.org_code == result["org"],
            BehaviourResultRow.day == day,
            BehaviourResultRow.analytic == result["analytic"],
            BehaviourResultRow.host == result["host"],
            BehaviourResultRow.dest == result["dest"][:253],
        )
    )
    if row is None:
        row = BehaviourResultRow(
            org_code=result["org"], day=day, analytic=result["analytic"], host=result["host"],
            dest=result["dest"][:253], created_at=utcnow(), status=status,
        )  # fmt: skip
        session.add(row)
    elif row.status != BENIGN:
        row.status = status
    row.remote = result["remote"]
    row.score = float(result["score"])
    row.parts = result["parts"]
    row.connections = int(result["connections"])
    row.orgs = int(result["orgs"])
    row.first_seen = result["first_seen"]
    row.last_seen = result["last_seen"]
    row.evidence = proof


def hunt_day(
    session: Session,
    root: Path,
    day: date,
    *,
    actor: Actor,
    config: BehaviourConfig = DEFAULT_CONFIG,
    retrospective: bool = False,
) -> HuntReport:
    """Hunt one day of the archive: store its results and raise its alerts (flush, no commit)."""
    results = analyse_day(root, day, config)
    allow = list_allowed(session, Scope.everything(), active_on=day)
    report = HuntReport(days=[day], results=results.height)
    alerting: dict[str, list[dict[str, Any]]] = {}
    for result in results.iter_rows(named=True):  # one step per result, never per event
        result["parts"] = json.loads(result["parts"])
        result["hunt"] = evidence.hunt_sql(result, day)
        if covering(allow, result) is not None:
            _store(session, day, result, ALLOWED, {"hunt": result["hunt"]})
            report.allowed += 1
        else:
            alerting.setdefault(result["org"], []).append(result)
    candidates = []
    slices = {part.org: part for part in day_slices(root, day)}
    staged = slices.get(None)
    for org, found in alerting.items():
        part = slices.get(org) or staged
        if part is None:
            continue
        for result, (proof, events) in zip(
            found, evidence.gather(part, found, config.histogram_bins), strict=True
        ):
            _store(session, day, result, OPEN, {**proof, "hunt": result["hunt"]})
            candidates.append(_candidates(result, events))
            report.alerting += 1
    session.flush()
    if candidates:
        stats = record_alerts(
            session,
            pl.concat(candidates),
            window=timedelta(days=1),
            retrospective=retrospective,
            now=utcnow(),
        )
        report.alerts_created = stats.created
    audit.record(
        session,
        actor,
        "behaviour.hunt",
        f"behaviour-day:{day.isoformat()}",
        after={"results": report.results, "alerting": report.alerting,
               "allowed": report.allowed, "alerts_created": report.alerts_created,
               "retrospective": retrospective},
    )  # fmt: skip
    return report


def _mark_day(session: Session, day: date, results: int) -> None:
    row = session.scalar(select(BehaviourDayRow).where(BehaviourDayRow.day == day))
    if row is None:
        session.add(BehaviourDayRow(day=day, results=results, scanned_at=utcnow()))
    else:
        row.results, row.scanned_at = results, utcnow()


def hunted_days(session: Session) -> list[date]:
    """Return the days the scheduled hunt has analysed, oldest first."""
    return list(session.scalars(select(BehaviourDayRow.day).order_by(BehaviourDayRow.day)))


def hunt_days(
    session: Session,
    root: Path,
    days: list[date],
    *,
    actor: Actor,
    config: BehaviourConfig = DEFAULT_CONFIG,
    retrospective: bool = False,
) -> HuntReport:
    """Hunt each of ``days`` and remember it as hunted; return the summed report."""
    total = HuntReport()
    for day in sorted(set(days)):
        done = hunt_day(session, root, day, actor=actor, config=config, retrospective=retrospective)
        _mark_day(session, day, done.results)
        total.days.append(day)
        total.results += done.results
        total.alerting += done.alerting
        total.allowed += done.allowed
        total.alerts_created += done.alerts_created
    return total


def days_to_hunt(
    session: Session, root: Path, *, last: int | None = None, today: date | None = None
) -> list[date]:
    """Return the archive's days a run should hunt.

    With ``last``, the newest ``last`` days the archive holds (hunted or not); else the
    days before ``today`` not hunted yet (today is still being written).
    """
    held = archive_days(root)
    if last is not None:
        return held[-last:] if last > 0 else []
    done = set(hunted_days(session))
    before = today or utcnow().date()
    return [d for d in held if d < before and d not in done]
