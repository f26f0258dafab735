"""`bastion alerts`: indicator and rule alerts raised by the boundary pipeline."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bastion.cli.context import (
    actor,
    cli_session,
    command_group,
    in_session,
    limit_option,
    second,
    settings,
)
from bastion.cli.output import CSV_OPTION, JSON_OPTION, Column, fields, print_record, print_rows

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bastion.alerts import Alert
    from bastion.alerts.external import ExternalReport
    from bastion.alerts.triage import Change
    from bastion.audit import Actor

app = command_group("Look at, triage and group the alerts raised at the internet boundary.")

ALERT_COLUMNS: list[Column[Alert]] = [
    *fields("id"),
    ("LAST SEEN", lambda a: second(a.last_seen)),
    *fields("org", "host", "severity", "verdict", "state", "group_id=GROUP", "count", "title"),
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
    limit: int | None = limit_option(50),
    as_json: bool = JSON_OPTION,
    as_csv: bool = CSV_OPTION,
) -> None:
    """List alerts, most recently seen first."""
    from bastion.alerts import list_alerts

    with cli_session() as session:
        if org is not None:
            _known_org(session, org)
        found, total = list_alerts(
            session, org=org, verdict=verdict, state=state, severity=severity, limit=limit
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
        f"events: {alert.count}   first seen: {second(alert.first_seen)}"
        f"   last seen: {second(alert.last_seen)} (UTC)"
    )
    yield (f"evidence ({len(alert.evidence)} of {alert.count}):")
    for item in alert.evidence:
        where = f"{item.path or '?'}@{item.offset if item.offset is not None else '?'}"
        yield (f"  {second(item.timestamp)}  {item.dataset or '-'}  {where}")
        yield (f"    {item.raw or ''}")


IDS_ARGUMENT = typer.Argument(
    None, help="alert ids, from `bastion alerts list` (or select them with the filters)"
)
RULE_OPTION = typer.Option(
    None, "--rule", help="every open alert of this rule (a Sigma id, builtin:port-scan …)"
)
INDICATOR_OPTION = typer.Option(
    None, "--indicator", help="every open alert of this indicator (its value or id)"
)
ORG_FILTER = typer.Option(None, "--org", "-o", help="every open alert of this organisation")
REASON_OPTION = typer.Option(None, "--reason", help="why: kept in each alert's history")


def _targets(
    session: Session,
    ids: list[int] | None,
    rule: str | None,
    indicator: str | None,
    org: str | None,
) -> list[int]:
    """The alerts a triage command acts on: the ids given, and those the filters select."""
    from bastion.alerts import triage

    chosen = list(ids or [])
    if rule or indicator or org:
        if org:
            _known_org(session, org)
        chosen += triage.select_ids(session, rule=rule, indicator=indicator, org=org)
    if not chosen:
        from bastion.core.errors import InputError

        msg = "no alerts to act on: give ids, or filters (--rule, --indicator, --org) that match"
        raise InputError(msg)
    return chosen


def _known_org(session: Session, org: str) -> None:
    from bastion.alerts import require_org

    require_org(session, org)  # NotFoundError: one line, non-zero exit


def _report(done: Sequence[Alert], verb: str, asked: int) -> None:
    typer.echo(
        f"{verb} {len(done)} alert(s)" + (f" ({asked - len(done)} unchanged)" * (asked > len(done)))
    )


def _triage(
    verb: str,
    act: Callable[[Session, Actor, list[int]], Sequence[Alert]],
    ids: list[int] | None,
    rule: str | None,
    indicator: str | None,
    org: str | None,
) -> None:
    """Run one triage action on the alerts chosen by ids or filters, and say what changed."""
    with cli_session() as session:
        chosen = _targets(session, ids, rule, indicator, org)
        done = act(session, actor(), chosen)
    _report(done, verb, len(set(chosen)))


@app.command("ack")
def ack(
    ids: list[int] | None = IDS_ARGUMENT,
    rule: str | None = RULE_OPTION,
    indicator: str | None = INDICATOR_OPTION,
    org: str | None = ORG_FILTER,
    reason: str | None = REASON_OPTION,
) -> None:
    """Acknowledge new alerts: by id, or every open alert a filter selects."""
    from bastion.alerts import triage

    _triage("acknowledged", partial(triage.acknowledge, reason=reason), ids, rule, indicator, org)


@app.command("assign")
def assign(
    ids: list[int] | None = IDS_ARGUMENT,
    to: str = typer.Option(..., "--to", help="the user's login or the team's name"),
    rule: str | None = RULE_OPTION,
    indicator: str | None = INDICATOR_OPTION,
    org: str | None = ORG_FILTER,
    reason: str | None = REASON_OPTION,
) -> None:
    """Assign open alerts to a user or a team (they are then in progress)."""
    from bastion.alerts import triage

    act = partial(triage.assign, assignee=to, reason=reason)
    _triage("assigned", act, ids, rule, indicator, org)


@app.command("close")
def close(
    ids: list[int] | None = IDS_ARGUMENT,
    resolution: str = typer.Option(
        ...,
        "--resolution",
        help="true_positive_impact, true_positive_no_impact, false_positive, benign, "
        "duplicate or not_applicable",
    ),
    rule: str | None = RULE_OPTION,
    indicator: str | None = INDICATOR_OPTION,
    org: str | None = ORG_FILTER,
    reason: str | None = REASON_OPTION,
) -> None:
    """Close open alerts with a resolution."""
    from bastion.alerts import triage

    act = partial(triage.close, resolution=resolution, reason=reason)
    _triage("closed", act, ids, rule, indicator, org)


@app.command("note")
def note(
    ids: list[int] = typer.Argument(help="alert ids, from `bastion alerts list`"),
    text: str = typer.Option(..., "--text", "-m", help="the note"),
) -> None:
    """Add a note to alerts."""
    from bastion.alerts import triage

    with cli_session() as session:
        done = triage.add_note(session, actor(), ids, text)
    _report(done, "noted", len(set(ids)))


@app.command("split")
def split(
    alert_id: int = typer.Argument(help="the alert to move out of its group"),
    reason: str | None = REASON_OPTION,
) -> None:
    """Move an alert out of a wrong alert group into a group of its own."""
    from bastion.alerts import triage

    with cli_session() as session:
        moved = triage.split(session, actor(), alert_id, reason=reason)
    typer.echo(f"alert {moved.id} is now alone in group {moved.group_id}")


@app.command("history")
def history(
    alert_id: int = typer.Argument(help="the alert's id"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show an alert's triage history: who changed what, when, from and to."""
    from bastion.alerts import triage

    changes = in_session(triage.history, alert_id)
    print_rows(changes, HISTORY_COLUMNS, as_json, False, noun="changes")


HISTORY_COLUMNS: list[Column[Change]] = [
    ("AT", lambda c: second(c.at)),
    *fields("actor", "field", "before=FROM", "after=TO", "reason"),
]


GRAPH_ALERTS = "https://graph.microsoft.com/v1.0/security/alerts_v2"


def _imported(report: ExternalReport) -> list[str]:
    return [
        f"read {report.read} Defender alert(s): {report.created} new, "
        f"{report.duplicates} already stored, {report.unattributed} unattributed"
    ]


@app.command("import-defender")
def import_defender(
    path: Path = typer.Argument(help="a Microsoft Graph security alerts_v2 JSON file"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Raise alerts from Microsoft Defender: attributed, deduplicated and grouped."""
    import json

    from bastion.alerts.external import defender_alerts, raise_external
    from bastion.core.errors import InputError

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"{path}: not a readable JSON file ({exc})"
        raise InputError(msg) from None
    with cli_session() as session:
        report = raise_external(
            session, defender_alerts(document), group_window=settings().alert_group_window
        )
    print_record(report, _imported, as_json=as_json)


@app.command("pull-defender")
def pull_defender(
    token_url: str = typer.Option(
        ...,
        "--token-url",
        help="Entra ID's token endpoint: https://login.microsoftonline.com/"
        "<tenant>/oauth2/v2.0/token",
    ),
    client_id: str = typer.Option(
        ..., "--client-id", envvar="BASTION_DEFENDER_CLIENT_ID", help="the app registration's id"
    ),
    client_secret: str = typer.Option(
        ...,
        "--client-secret",
        envvar="BASTION_DEFENDER_CLIENT_SECRET",
        show_default=False,
        help="its client secret (better in BASTION_DEFENDER_CLIENT_SECRET than on a command line)",
    ),
    alerts_url: str = typer.Option(GRAPH_ALERTS, "--alerts-url", help="Graph's alerts_v2"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Pull the Defender for Endpoint alerts new since the last pull from Microsoft Graph
    (client credentials): attributed, deduplicated and grouped, the pull audited."""
    from bastion.alerts.defender_pull import DefenderClient
    from bastion.alerts.defender_pull import pull_defender as pull

    client = DefenderClient(token_url, alerts_url, client_id, client_secret)
    with cli_session() as session:
        report = pull(session, actor(), client, group_window=settings().alert_group_window)
    print_record(report, _imported, as_json=as_json)
