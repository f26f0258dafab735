"""The centre: takes in vantage points' results, decides checks, keeps states and budgets.

``ingest`` stores one batch of results (raw, by hour) and notes the agent alive.
``cycle`` (every few seconds) then does the rest, in order:

1. push monitors: one result each from the centre itself, down if no heartbeat
   came within the interval;
2. every hour that got results is decided again by quorum into minute counts;
3. each monitor's state follows its latest decided minute; a change is notified,
   and a service going down opens an automatic incident (closed on recovery) —
   unless many organisations' monitors of one dependency are down together, which
   opens one national incident instead of an alert per member;
4. an agent silent for ``agent_silence`` is an alert in its own right;
5. every SLO's burn rates are evaluated at once; a firing rule opens a burn alert
   (a page also raises an alert in ``bastion.alerts`` with source ``uptime`` and
   opens an incident), and the alert clears when no rule fires any more;
6. certificates the new results met within a warning threshold are notified, once
   per organisation, certificate and threshold (``bastion.uptime.certificates``);
7. finished hours and days are rolled up and old detail dropped.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.alerts import ExternalAlert, raise_external
from bastion.core.scope import Scope
from bastion.core.timeutil import as_utc, utcnow
from bastion.store import Store
from bastion.uptime.certificates import CertificateNotice, expiring, warn
from bastion.uptime.domain import Monitor, MonitorKind
from bastion.uptime.history import History
from bastion.uptime.incidents import open_automatic, resolve_automatic
from bastion.uptime.models import AgentRow, BurnAlertRow, MonitorRow
from bastion.uptime.notify import Notice, Notifier, notify
from bastion.uptime.quorum import MONITOR_SCHEMA, minutes
from bastion.uptime.service import list_monitors, list_slos, windows_by_monitor
from bastion.uptime.slo import BURN_RULES, BurnSeverity, burn_rates, firing, slo_frame

CENTRE_AGENT = "centre"


@dataclass
class CycleReport:
    settled_hours: int = 0
    changed: dict[int, str] = field(default_factory=dict)  # monitor -> new state
    national: list[str] = field(default_factory=list)  # dependencies with a national incident
    silent_agents: list[str] = field(default_factory=list)
    burning: dict[int, str] = field(default_factory=dict)  # slo -> page or ticket
    cleared: list[int] = field(default_factory=list)
    certificates: list[CertificateNotice] = field(default_factory=list)  # told this cycle


def monitor_frame(monitors: Sequence[Monitor]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "monitor": [m.id for m in monitors],
            "interval_s": [m.interval_s for m in monitors],
            "quorum": [m.quorum for m in monitors],
            "org": [m.org for m in monitors],
            "service": [m.service for m in monitors],
        },
        schema={**MONITOR_SCHEMA, "org": pl.String(), "service": pl.String()},
    )


class Centre:
    """The central half of uptime: ingest, decide, evaluate, tell."""

    def __init__(
        self,
        store: Store,
        history: History,
        notifier: Notifier | None = None,
        *,
        agent_silence: timedelta = timedelta(minutes=3),
        national_min_orgs: int = 3,
        cert_warn_days: Sequence[int] = (7, 30),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.history = history
        self.notifier = notifier
        self.agent_silence = agent_silence
        self.national_min_orgs = national_min_orgs
        self.cert_warn_days = tuple(cert_warn_days)
        self.clock = clock
        self.touched: set[datetime] = set()
        self._rolled: datetime | None = None
        self._scanned = 0.0  # raw results written by others (the HTTP door) since this time

    # Ingest -------------------------------------------------------------------
    def ingest(self, frame: pl.DataFrame, batch: str, agent: str, location: str = "") -> int:
        """Store one batch of an agent's results durably; note the agent alive."""
        if frame.height:
            self.touched |= self.history.append_raw(frame, batch)
        with self.store.session() as session:
            seen(session, agent, location, frame.height, self.clock())
        return frame.height

    # The cycle ----------------------------------------------------------------
    def cycle(self, now: datetime | None = None) -> CycleReport:
        """Decide, evaluate and tell, as of ``now`` (the centre's clock by default)."""
        moment = as_utc(now or self.clock())
        report = CycleReport()
        with self.store.session() as session:
            monitors = [m for m in list_monitors(session, Scope.everything()) if not m.paused]
            self._push_results(session, monitors, moment)
            frame = monitor_frame(monitors)
            windows = windows_by_monitor(session, monitors)
            scan = time.time()
            self.touched |= self.history.raw_changed_since(self._scanned - 1.0)
            self._scanned = scan
            certs = []
            for hour in sorted(self.touched):
                raw = self.history.raw(hour)
                self.history.write_minutes(hour, minutes(raw, frame, windows))
                certs.append(raw.filter(pl.col("cert_sha256").is_not_null()))
                report.settled_hours += 1
            self.touched.clear()
            self._states(session, monitors, moment, report)
            self._agents(session, moment, report)
            self._burn(session, frame, moment, report)
            if certs:
                found = expiring(pl.concat(certs), frame, self.cert_warn_days)
                report.certificates = warn(
                    session, self.notifier, found, {m.id: m for m in monitors},
                    self.cert_warn_days, moment,
                )  # fmt: skip
        hour = moment.replace(minute=0, second=0, microsecond=0)
        if self._rolled != hour:
            self.history.roll_up(moment)
            self._rolled = hour
        return report

    def _push_results(self, session: Session, monitors: Sequence[Monitor], now: datetime) -> None:
        pushed = [m for m in monitors if m.kind is MonitorKind.PUSH]
        if not pushed:
            return
        last: dict[int, datetime] = {
            monitor_id: as_utc(at)  # type: ignore[arg-type]  # not null: filtered below
            for monitor_id, at in session.execute(
                select(MonitorRow.id, MonitorRow.last_push_at).where(
                    MonitorRow.id.in_([m.id for m in pushed]), MonitorRow.last_push_at.is_not(None)
                )
            )
        }
        rows = [
            {"monitor": m.id, "agent": CENTRE_AGENT, "at": now, "latency_ms": 0.0, "error": "",
             "ok": m.id in last and last[m.id] >= now - timedelta(seconds=m.interval_s)}
            for m in pushed
        ]  # fmt: skip
        frame = pl.DataFrame(rows).with_columns(
            error=pl.when(pl.col("ok")).then(pl.lit("")).otherwise(pl.lit("no heartbeat"))
        )
        self.touched |= self.history.append_raw(frame, f"push-{now:%Y%m%d%H%M%S%f}")

    def _states(
        self, session: Session, monitors: Sequence[Monitor], now: datetime, report: CycleReport
    ) -> None:
        recent = self.history.counts(
            now - timedelta(minutes=10), now + timedelta(minutes=1), now=now
        )
        latest = (
            recent.filter(pl.col("checks") > 0)
            .sort("minute")
            .group_by("monitor")
            .agg(pl.col("down").last() > 0)
        )
        down_now = dict(zip(latest["monitor"].to_list(), latest["down"].to_list(), strict=True))
        rows = {r.id: r for r in session.scalars(select(MonitorRow))}
        by_id = {m.id: m for m in monitors}
        changed: list[Monitor] = []
        for monitor_id, is_down in down_now.items():
            row = rows.get(monitor_id)
            state = "down" if is_down else "up"
            if row is None or monitor_id not in by_id or row.state == state:
                continue
            row.state, row.state_since = state, now
            report.changed[monitor_id] = state
            changed.append(by_id[monitor_id])
        session.flush()
        down = [m for m in monitors if rows.get(m.id) is not None and rows[m.id].state == "down"]
        national = self._correlate(session, down, now, report)
        for item in changed:
            if item.dependency in national:
                continue  # one national incident speaks for every member's monitor
            self._service_state(session, item, rows, now)

    def _service_state(
        self, session: Session, item: Monitor, rows: dict[int, MonitorRow], now: datetime
    ) -> None:
        state = rows[item.id].state
        notify(session, self.notifier, Notice(
            state if state == "down" else "recovered", item.org,
            f"[{state.upper()}] {item.service}: {item.name}",
            f"{item.name} ({item.target}) of {item.org}'s {item.service} is {state} "
            f"as of {now:%Y-%m-%d %H:%M} UTC, by a quorum of vantage points.",
            {"monitor": item.id, "service": item.service, "state": state},
        ))  # fmt: skip
        service_down = any(
            r.state == "down" for r in rows.values()
            if r.org_code == item.org and r.service == item.service
        )  # fmt: skip
        if service_down:
            open_automatic(session, item.org, item.service, f"{item.service} is down",
                           f"{item.name} failed from a quorum of vantage points.", now=now)  # fmt: skip
        else:
            resolve_automatic(session, item.org, item.service, "Every check passes again.", now)

    def _correlate(
        self, session: Session, down: Sequence[Monitor], now: datetime, report: CycleReport
    ) -> set[str]:
        organisations: dict[str, set[str]] = defaultdict(set)
        for item in down:
            organisations[item.dependency].add(item.org)
        national = {d for d, o in organisations.items() if len(o) >= self.national_min_orgs}
        for dependency in sorted(national):
            members = sorted(organisations[dependency])
            opened = open_automatic(
                session, None, dependency, f"National: {dependency} is down",
                f"Monitors of {len(members)} organisations fail together: {', '.join(members)}.",
                organisations=members, now=now,
            )  # fmt: skip
            if opened is not None:
                report.national.append(dependency)
                notify(session, self.notifier, Notice(
                    "national", None, f"[NATIONAL] {dependency} is down for {len(members)} members",
                    opened.updates[0].text, {"dependency": dependency, "organisations": members},
                ))  # fmt: skip
        return national

    def _agents(self, session: Session, now: datetime, report: CycleReport) -> None:
        for row in session.scalars(select(AgentRow).where(AgentRow.name != CENTRE_AGENT)):
            quiet = as_utc(row.last_seen) < now - self.agent_silence
            if quiet and not row.silent:
                report.silent_agents.append(row.name)
                title = f"Uptime vantage point {row.name} ({row.location}) stopped reporting"
                raise_external(session, [ExternalAlert(
                    "uptime", f"agent:{row.name}:{now:%Y%m%d%H%M}", title, "medium", now,
                    hostname=row.name, raw=f"last result {row.last_seen.isoformat()}",
                )])  # fmt: skip
                notify(session, self.notifier, Notice("agent", None, title, title))
            row.silent = quiet
        session.flush()

    def _burn(
        self, session: Session, frame: pl.DataFrame, now: datetime, report: CycleReport
    ) -> None:
        slos = list_slos(session, Scope.everything())
        if not slos:
            return
        rates = burn_rates(self.history.recent(now), frame, slo_frame(slos), now)
        fired = firing(rates)
        report.burning = {k: v.value for k, v in fired.items()}
        open_rows = {
            r.slo_id: r
            for r in session.scalars(select(BurnAlertRow).where(BurnAlertRow.cleared_at.is_(None)))
        }
        by_id = {s.id: s for s in slos}
        burns = {int(r["slo"]): r for r in rates.iter_rows(named=True)}
        for slo_id, severity in fired.items():
            row = open_rows.get(slo_id)
            if row is not None and row.severity == severity.value:
                continue
            slo = by_id[slo_id]
            rules = [r.name for r in BURN_RULES if burns[slo_id][r.name]]
            session.add(BurnAlertRow(
                slo_id=slo_id, severity=severity.value, rules=rules, fired_at=now,
                burn={k: round(float(v), 3) for k, v in burns[slo_id].items() if k.startswith("burn_")},
            ))  # fmt: skip
            if row is not None:
                row.cleared_at = now  # escalated to a page, or calmed to a ticket
                if severity is BurnSeverity.TICKET:
                    continue  # a page calming down tells nobody anything new
            title = f"[{severity.value.upper()}] {slo.service} burns its {slo.target * 100:g}% error budget"
            body = f"{slo.org}'s {slo.service}: {', '.join(rules)} firing as of {now:%Y-%m-%d %H:%M} UTC."
            notify(session, self.notifier, Notice("burn", slo.org, title, body,
                                                  {"slo": slo_id, "severity": severity.value}))  # fmt: skip
            if severity is BurnSeverity.PAGE:
                raise_external(session, [ExternalAlert(
                    "uptime", f"burn:{slo_id}:{now:%Y%m%d%H%M}", title, "high", now, org=slo.org,
                    hostname=slo.service, raw=body,
                )])  # fmt: skip
                open_automatic(
                    session, slo.org, slo.service, f"{slo.service} is degraded", body, now=now
                )
        for slo_id, row in open_rows.items():
            if slo_id not in fired:
                row.cleared_at = now
                report.cleared.append(slo_id)
        session.flush()


def seen(session: Session, agent: str, location: str, results: int, now: datetime) -> None:
    """Note that ``agent`` reported ``results`` results at ``now`` (a measurement: not audited)."""
    row = session.scalar(select(AgentRow).where(AgentRow.name == agent))
    if row is None:
        row = AgentRow(
            name=agent[:64], location=location[:120], last_seen=now, results=0, silent=False
        )
        session.add(row)
    row.last_seen = max(as_utc(row.last_seen), now)
    row.results += results
    if location:
        row.location = location[:120]
    session.flush()
