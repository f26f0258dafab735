"""`bastion alerts`: indicator and rule alerts raised by the boundary pipeline."""

from __future__ import annotations

from datetime import datetime

import typer

from bastion.boundary.alerts import get_alert, list_alerts
from bastion.cli.context import JSON_OPTION, print_json, print_table, store

app = typer.Typer(help="Look at alerts raised at the internet boundary.", no_args_is_help=True)


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


@app.command("list")
def list_(
    org: str | None = typer.Option(None, "--org", "-o", help="only this organisation's code"),
    status: str | None = typer.Option(None, "--status", help="blocked or live"),
    severity: str | None = typer.Option(
        None, "--severity", help="only this severity: informational, low, medium, high, critical"
    ),
    limit: int | None = typer.Option(50, "--limit", min=1, help="at most this many (default 50)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List alerts, most recently seen first."""
    with store().session() as session:
        found, total = list_alerts(session, org=org, status=status, severity=severity, limit=limit)
    if as_json:
        print_json(found)
        return
    print_table(
        ["ID", "LAST SEEN", "ORG", "HOST", "SEVERITY", "STATUS", "COUNT", "TITLE"],
        [
            (a.id, _when(a.last_seen), a.org, a.host, a.severity.value, a.status, a.count, a.title)
            for a in found
        ],
    )
    typer.echo(f"{len(found)} of {total} alerts", err=True)


@app.command("show")
def show(
    alert_id: int = typer.Argument(help="the alert's id, from `bastion alerts list`"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show one alert with its evidence: sample raw lines and where they are."""
    with store().session() as session:
        alert = get_alert(session, alert_id)
    if as_json:
        print_json(alert)
        return
    typer.echo(f"alert {alert.id}  {alert.severity.value.upper()}  {alert.status}  {alert.title}")
    typer.echo(f"organisation: {alert.org or '-'}   host: {alert.host or '-'}")
    typer.echo(f"{alert.kind.value}: {alert.key}" + ("   (retrospective)" * alert.retrospective))
    if alert.indicator_value is not None:
        typer.echo(
            f"indicator: {alert.indicator_type or '?'} {alert.indicator_value}"
            f"   source: {alert.indicator_source or '-'}   threat: {alert.indicator_threat or '-'}"
        )
    typer.echo(
        f"events: {alert.count}   first seen: {_when(alert.first_seen)}"
        f"   last seen: {_when(alert.last_seen)} (UTC)"
    )
    typer.echo(f"evidence ({len(alert.evidence)} of {alert.count}):")
    for item in alert.evidence:
        where = f"{item.path or '?'}@{item.offset if item.offset is not None else '?'}"
        typer.echo(f"  {_when(item.timestamp)}  {item.dataset or '-'}  {where}")
        typer.echo(f"    {item.raw or ''}")
