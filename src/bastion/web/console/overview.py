"""The console's overview: events, blocks and alerts per day; top organisations and indicators.

Everything is confined to the caller's scope: a member sees its organisations'
figures, a national role the federation's.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from bastion import advisories as adv
from bastion import orgs
from bastion.alerts import count_alerts_live, summarise_alerts
from bastion.boundary.hunting import archive_state, hunt
from bastion.core.errors import InputError
from bastion.core.scope import Scope
from bastion.core.timeutil import utcnow
from bastion.web.charts import Series, day_bars, share_bar
from bastion.web.console.view import View
from bastion.web.deps import SettingsDep, visible_organisations

DAYS = 14
TOP = 8

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Overview = Annotated[View, Depends(View.of("overview"))]


def _days(today: date) -> list[date]:
    return [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]


# The archive's figures of recent overviews, by archive state, day and scope: opening
# DuckDB over the archive costs a page more than it may (~0.1 s); the archive changes
# when a batch is committed or compacted, far less often than the overview is opened.
_ARCHIVED: OrderedDict[tuple[Any, ...], dict[date, tuple[int, int]]] = OrderedDict()
_ARCHIVED_KEPT = 256
_ARCHIVED_LOCK = threading.Lock()


def archive_per_day(root: Path, scope: Scope, since: date) -> dict[date, tuple[int, int]]:
    """Return events and blocked events per day from the archive, within ``scope``.

    Kept per scope while the archive's files stay the same (``archive_state``)."""
    if not root.is_dir():
        return {}
    codes = None if scope.codes is None else frozenset(scope.codes)
    state = archive_state(root)
    key = (str(root), state, since, codes)
    with _ARCHIVED_LOCK:
        if key in _ARCHIVED:
            _ARCHIVED.move_to_end(key)
            return dict(_ARCHIVED[key])
    found = _archive_per_day(root, scope, since)
    if archive_state(root) == state:  # not changed while read: the figures are the state's
        with _ARCHIVED_LOCK:
            _ARCHIVED[key] = dict(found)
            while len(_ARCHIVED) > _ARCHIVED_KEPT:
                _ARCHIVED.popitem(last=False)
    return found


def _archive_per_day(root: Path, scope: Scope, since: date) -> dict[date, tuple[int, int]]:
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


def overview_data(
    session: Session, scope: Scope, archive: Path, today: date | None = None
) -> dict[str, Any]:
    """Gather what the overview shows, within ``scope``."""
    day = today or datetime.now(UTC).date()
    days = _days(day)
    since = datetime.combine(days[0], datetime.min.time(), tzinfo=UTC)
    summary = summarise_alerts(session, orgs=scope.codes, since=since, top=TOP)
    archived = archive_per_day(archive, scope, days[0])
    open_total, live_total = count_alerts_live(session, orgs=scope.codes)
    org_total = (
        orgs.count_organisations(session)
        if scope.national
        else visible_organisations(session, scope, limit=1)[1]
    )
    org_rows = summary.top_orgs
    indicator_rows = [(source, source.events) for source in summary.top_sources]
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
                Series("alerts", "bar-alerts", [summary.per_day.get(d, (0, 0))[0] for d in days]),
                Series(
                    "blocked alerts",
                    "bar-blocked",
                    [summary.per_day.get(d, (0, 0))[1] for d in days],
                ),
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
