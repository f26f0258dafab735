"""The console's overview: events, blocks and alerts per day; top organisations and indicators.

Everything is confined to the caller's scope: a member sees its organisations'
figures, a national role the federation's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from bastion import advisories as adv
from bastion import orgs
from bastion.alerts import Alert, Verdict, list_alerts
from bastion.boundary.hunting import hunt
from bastion.core.errors import InputError
from bastion.core.scope import Scope
from bastion.core.timeutil import utcnow
from bastion.web.charts import Series, day_bars, share_bar
from bastion.web.console.view import View
from bastion.web.deps import SettingsDep, visible_organisations

DAYS = 14
TOP = 8
# An overview reads at most this many alerts of the fortnight (alerts group events; far fewer).
ALERTS_READ = 50_000

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Overview = Annotated[View, Depends(View.of("overview"))]


def _days(today: date) -> list[date]:
    return [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]


def archive_per_day(root: Path, scope: Scope, since: date) -> dict[date, tuple[int, int]]:
    """Return events and blocked events per day from the archive, within ``scope``."""
    if not root.is_dir():
        return {}
    where = f"day >= '{since.isoformat()}'"
    if scope.codes is not None:
        # Codes are checked organisation codes (letters and digits); quoted all the same.
        listed = ", ".join("'" + c.replace("'", "''") + "'" for c in scope.codes) or "''"
        where += f" AND org IN ({listed})"
    sql = (
        "SELECT day, count(*) AS events, count(*) FILTER (WHERE \"event.type\" = 'denied') "
        f"AS blocked FROM events WHERE {where} GROUP BY day"
    )
    try:
        frame = hunt(root, sql)
    except InputError:
        return {}  # an archive without those columns yet: no figures rather than an error
    found = {}
    for row in frame.iter_rows(named=True):  # one row per day, at most a fortnight
        try:
            found[date.fromisoformat(str(row["day"]))] = (int(row["events"]), int(row["blocked"]))
        except ValueError:
            continue
    return found


@dataclass(frozen=True)
class TopEntry:
    """What a top-indicators row names: a rule by its title, an indicator by its type and value."""

    kind: str  # "rule" or "indicator"
    ident: str  # the rule's id, or the indicator's "type:value"
    label: str


def top_entry(alert: Alert) -> TopEntry | None:
    """Return the top-indicators entry an alert counts towards (None: it names neither)."""
    if alert.kind == "rule" or alert.indicator_type == "sigma-rule":
        rule_id = alert.indicator_value or alert.key.removeprefix("sigma:").split(" ", 1)[0]
        return TopEntry("rule", rule_id, alert.title or rule_id)
    if alert.indicator_value:
        kind = alert.indicator_type or ""
        return TopEntry(
            "indicator",
            f"{kind}:{alert.indicator_value}",
            f"{kind} {alert.indicator_value}".strip(),
        )
    return None


def overview_data(
    session: Session, scope: Scope, archive: Path, today: date | None = None
) -> dict[str, Any]:
    """Gather what the overview shows, within ``scope``."""
    day = today or datetime.now(UTC).date()
    days = _days(day)
    since = datetime.combine(days[0], datetime.min.time(), tzinfo=UTC)
    alerts, _ = list_alerts(session, orgs=scope.codes, since=since, limit=ALERTS_READ)
    per_day: Counter[date] = Counter()
    blocked_per_day: Counter[date] = Counter()
    top_orgs: Counter[str] = Counter()
    top_indicators: Counter[TopEntry] = Counter()
    for a in alerts:  # alerts, not events: a fortnight's worth is small
        seen = a.last_seen.date()
        per_day[seen] += 1
        if a.verdict == Verdict.BLOCKED.value:
            blocked_per_day[seen] += 1
        if a.org:
            top_orgs[a.org] += a.count
        entry = top_entry(a)
        if entry is not None:
            top_indicators[entry] += a.count
    archived = archive_per_day(archive, scope, days[0])
    _, open_total = list_alerts(session, orgs=scope.codes, limit=1)
    _, live_total = list_alerts(session, orgs=scope.codes, verdict=Verdict.LIVE.value, limit=1)
    org_total = (
        orgs.count_organisations(session)
        if scope.national
        else visible_organisations(session, scope, limit=1)[1]
    )
    org_rows = top_orgs.most_common(TOP)
    indicator_rows = top_indicators.most_common(TOP)
    org_peak = org_rows[0][1] if org_rows else 0
    indicator_peak = indicator_rows[0][1] if indicator_rows else 0
    names = orgs.organisation_names(session, [c for c, _ in org_rows]) if org_rows else {}
    return {
        "days": days,
        "figures": {
            "organisations": org_total,
            "alerts": open_total,
            "live": live_total,
            "events": sum(e for e, _ in archived.values()),
            "blocked": sum(b for _, b in archived.values()),
        },
        "alerts_chart": day_bars(
            days,
            [
                Series("alerts", "bar-alerts", [per_day[d] for d in days]),
                Series("blocked alerts", "bar-blocked", [blocked_per_day[d] for d in days]),
            ],
            title=f"Alerts per day, last {DAYS} days",
        ),
        "events_chart": day_bars(
            days,
            [
                Series("events", "bar-events", [archived.get(d, (0, 0))[0] for d in days]),
                Series("blocked", "bar-blocked", [archived.get(d, (0, 0))[1] for d in days]),
            ],
            title=f"Events and blocks per day, last {DAYS} days",
        ),
        "top_orgs": [(c, n, share_bar(n, org_peak), names.get(c)) for c, n in org_rows],
        "top_indicators": [(e, n, share_bar(n, indicator_peak)) for e, n in indicator_rows],
    }


def countdown(due: datetime | None, now: datetime) -> str:
    """Say how long is left until ``due``: "47 h 12 min left", or how late it is."""
    if due is None:
        return "no deadline"
    seconds = int((due - now).total_seconds())
    hours, minutes = divmod(abs(seconds) // 60, 60)
    span = f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
    return f"{span} left" if seconds >= 0 else f"overdue by {span}"


@router.get("/overview", name="overview")
def overview(view: Overview, settings: SettingsDep) -> HTMLResponse:
    """Show the overview of what the caller may see; first, national alerts still to acknowledge."""
    session, scope, now = view.session, view.scope, utcnow()
    pending = [(p, countdown(p.ack_due, now)) for p in adv.pending_acknowledgements(session, scope)]
    return view.render(
        "overview.html",
        national=scope.national,
        scope=scope,
        pending=pending,
        scope_names=(
            orgs.organisation_names(session, scope.codes or []) if not scope.national else {}
        ),
        **overview_data(session, scope, settings.archive_dir),
    )
