"""`bastion alerts`: indicator and rule alerts raised by the boundary pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import typer

from bastion.cli.context import command_group, in_session
from bastion.cli.context import second as _when
from bastion.cli.output import CSV_OPTION, JSON_OPTION, Column, print_record, print_rows

if TYPE_CHECKING:
    from bastion.alerts import Alert

app = command_group("Look at alerts raised at the internet boundary.")

ALERT_COLUMNS: list[Column[Alert]] = [
    ("ID", lambda a: a.id),
    ("LAST SEEN", lambda a: _when(a.last_seen)),
    ("ORG", lambda a: a.org),
    ("HOST", lambda a: a.host),
    ("SEVERITY", lambda a: a.severity.value),
    ("VERDICT", lambda a: a.verdict),
    ("STATE", lambda a: a.state),
    ("GROUP", lambda a: a.group_id),
    ("COUNT", lambda a: a.count),
    ("TITLE", lambda a: a.title),
]


@app.command("list")
def list_(
    org: str | None = typer.Option(None, "--org", "-o", help="only this organisation's code"),
    verdict: str | None = typer.Option(None, "--verdict", help="only blocked or only live"),
    state: str | None = typer.Option(
        None, "--state", help="only this triage state: new, acknowledged, in_progress, closed"
    ),
    severity: str | None = typer.Option(
        None, "--severity", help="only this severity: informational, low, medium, high, critical"
    ),
    limit: int | None = typer.Option(50, "--limit", min=1, help="at most this many (default 50)"),
    as_json: bool = JSON_OPTION,
    as_csv: bool = CSV_OPTION,
) -> None:
    """List alerts, most recently seen first."""
    from bastion.alerts import list_alerts

    found, total = in_session(
        list_alerts, org=org, verdict=verdict, state=state, severity=severity, limit=limit
    )
    print_rows(found, ALERT_COLUMNS, as_json, as_csv, total=total, noun="alerts")


@app.command("show")
def show(
    alert_id: int = typer.Argument(help="the alert's id, from `bastion alerts list`"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show one alert with its evidence: sample raw lines and where they are."""
    from bastion.alerts import get_alert

    alert = in_session(get_alert, alert_id)
    print_record(alert, _alert_lines, as_json=as_json)


def _alert_lines(alert: Alert) -> Iterator[str]:
    yield (f"alert {alert.id}  {alert.severity.value.upper()}  {alert.verdict}  {alert.title}")
    yield (
        f"state: {alert.state}   resolution: {alert.resolution or '-'}"
        f"   assignee: {alert.assignee or '-'}   group: {alert.group_id}"
    )
    yield (f"organisation: {alert.org or '-'}   host: {alert.host or '-'}")
    yield (f"{alert.kind.value}: {alert.key}" + ("   (retrospective)" * alert.retrospective))
    if alert.indicator_value is not None:
        yield (
            f"indicator: {alert.indicator_type or '?'} {alert.indicator_value}"
            f"   source: {alert.indicator_source or '-'}   threat: {alert.indicator_threat or '-'}"
        )
    yield (
        f"events: {alert.count}   first seen: {_when(alert.first_seen)}"
        f"   last seen: {_when(alert.last_seen)} (UTC)"
    )
    yield (f"evidence ({len(alert.evidence)} of {alert.count}):")
    for item in alert.evidence:
        where = f"{item.path or '?'}@{item.offset if item.offset is not None else '?'}"
        yield (f"  {_when(item.timestamp)}  {item.dataset or '-'}  {where}")
        yield (f"    {item.raw or ''}")
