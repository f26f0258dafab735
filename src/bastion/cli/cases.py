"""`bastion cases`: SOC cases over alerts — open, merge, work and close them; response times.

The command line acts nationally (it runs as whoever holds the server); each
change is recorded in the audit trail as ``cli:<login>`` (``--by`` to name
someone else).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

import typer

from bastion.cli.context import (
    BY_OPTION,
    actor,
    command_group,
    everything,
    in_session,
    limit_option,
    minute,
    moment,
    settings,
)
from bastion.cli.output import JSON_OPTION, Column, fields, print_record, print_rows

if TYPE_CHECKING:
    from bastion.cases import Case, CaseStats, Notifier

app = command_group("SOC cases over alerts: open, merge, work and close them; response times.")
CASE_ID = typer.Argument(help="the case's id")


def _notifier() -> Notifier:
    from bastion import cases

    return cases.notifier(settings())


def _clocks(case: Case) -> str:
    return " ".join(
        f"{c.clock.value}:{'OVERDUE' if c.overdue else f'{c.seconds_left // 3600}h'}"
        for c in case.clocks
        if c.reported_at is None
    )


CASE_COLUMNS: list[Column[Case]] = [
    *fields("id"),
    ("OPENED", lambda c: minute(c.created_at)),
    *fields("severity", "status"),
    ("ORGS", lambda c: ",".join(c.organisations)),
    *fields("owner"),
    ("CLOCKS", _clocks),
    *fields("title"),
]


@app.command("list")
def list_(
    status: str | None = typer.Option(None, "--status", help="only cases in this status"),
    open_only: bool = typer.Option(False, "--open", help="only cases not closed"),
    org: str | None = typer.Option(None, "--org", "-o", help="only this organisation's cases"),
    severity: str | None = typer.Option(None, "--severity", help="low, medium, high or critical"),
    search: str | None = typer.Option(None, "--search", help="part of the title or description"),
    limit: int = limit_option(50),
    as_json: bool = JSON_OPTION,
) -> None:
    """List cases, newest first, with their regulatory clocks."""
    from bastion import cases

    found, total = in_session(
        cases.list_cases, everything(), status=status, open_only=open_only, org=org,
        severity=severity, search=search, policy=cases.clock_policy(settings()), limit=limit,
    )  # fmt: skip
    print_rows(found, CASE_COLUMNS, as_json, total=total, noun="cases")


@app.command("show")
def show(
    case_id: int = typer.Argument(help="the case's id, from `bastion cases list`"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show one case: its fields, clocks, alerts, observables, tasks and timeline."""
    from bastion import cases

    found = in_session(cases.get_case, case_id, everything(), policy=cases.clock_policy(settings()))
    print_record(found, _case_lines, as_json=as_json)


def _case_lines(case: Case) -> Iterator[str]:
    yield f"case {case.id}  {case.severity.value.upper()}  {case.status.value}  {case.title}"
    yield (
        f"organisations: {', '.join(case.organisations)}   owner: {case.owner or '-'}"
        f"   TLP:{case.tlp.value}   PAP:{case.pap.value}"
    )
    yield f"opened: {minute(case.created_at)}   aware since: {minute(case.aware_at)} (UTC)"
    if case.closed_at:
        yield f"closed: {minute(case.closed_at)}: {case.resolution}"
    yield (
        f"patient safety: {case.patient_impact.value}   clinical systems: "
        f"{', '.join(case.clinical_systems) or '-'}   downtime procedures: "
        + (f"yes, since {minute(case.downtime_since)}" if case.downtime_since else "no")
    )
    if case.tags or case.techniques:
        yield f"tags: {', '.join(case.tags) or '-'}   ATT&CK: {', '.join(case.techniques) or '-'}"
    for clock in case.clocks:
        state = (
            f"reported {minute(clock.reported_at)}"
            if clock.reported_at
            else ("OVERDUE" if clock.overdue else f"{clock.seconds_left // 3600} h left")
        )
        yield f"clock: {clock.label}: due {minute(clock.deadline)} — {state}"
    if case.alerts:
        yield f"alerts: {', '.join(str(a) for a in case.alerts)}"
    if case.advisories:
        yield f"advisories: {', '.join(case.advisories)}"
    for o in case.observables:
        yield f"observable: {o.kind.value} {o.value}  TLP:{o.tlp.value}  sightings: {o.sightings}"
    for t in case.tasks:
        yield f"task {t.id}: [{t.status.value}] {t.title}" + (f" ({t.assignee})" * bool(t.assignee))
    yield f"timeline ({len(case.timeline)}):"
    for e in case.timeline:
        yield f"  {minute(e.at)}  {e.kind:<10} {e.actor}  {e.text}"


@app.command("create")
def create(
    title: str | None = typer.Option(None, "--title", help="what the case is about"),
    from_alert: int | None = typer.Option(
        None, "--from-alert", help="promote this alert (and its group) to the case"
    ),
    org: list[str] = typer.Option(
        [],
        "--org",
        "-o",
        help="an organisation the case belongs to (repeat; with --from-alert: the alert's)",
    ),
    severity: str = typer.Option("medium", "--severity", help="low, medium, high or critical"),
    template: str | None = typer.Option(
        None, "--template", help="start with a template's tasks, e.g. 'Phishing'"
    ),
    tlp: str = typer.Option(
        "AMBER", "--tlp", help="TLP marking: CLEAR, GREEN, AMBER, AMBER+STRICT, RED"
    ),
    description: str = typer.Option("", "--description", help="what is known so far"),
    personal_data: bool = typer.Option(
        False, "--personal-data", help="personal data may be affected (starts the 72 h clock)"
    ),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Open a case, from scratch (--title, --org) or by promoting an alert (--from-alert)."""
    from bastion import cases
    from bastion.core.errors import InputError

    if from_alert is not None:
        made = in_session(
            cases.promote_alert, from_alert, title=title, actor=actor(by), scope=everything(),
            template=template, notifier=_notifier(),
        )  # fmt: skip
    else:
        if not title:
            msg = "name the case (--title) or promote an alert (--from-alert ID)"
            raise InputError(msg)
        draft = cases.CaseDraft(
            title=title, organisations=tuple(org), severity=severity, template=template, tlp=tlp,
            description=description, personal_data=personal_data,
        )  # fmt: skip
        made = in_session(
            cases.create_case, draft, actor=actor(by), scope=everything(), notifier=_notifier()
        )
    print_record(made, lambda c: [f"opened case {c.id}: {c.title}"], as_json=as_json)


@app.command("merge")
def merge(
    case_id: int = typer.Argument(help="the open case to merge into"),
    alert: int | None = typer.Option(None, "--alert", help="merge this alert (and its group)"),
    other: int | None = typer.Option(None, "--case", help="merge this other case (it closes)"),
    by: str | None = BY_OPTION,
) -> None:
    """Merge an alert (--alert) or another case (--case) into an open case."""
    from bastion import cases
    from bastion.core.errors import InputError

    if (alert is None) == (other is None):
        msg = "merge one thing: --alert ID or --case ID"
        raise InputError(msg)
    if alert is not None:
        in_session(cases.merge_alert, case_id, alert, actor=actor(by), scope=everything())
        typer.echo(f"merged alert {alert} into case {case_id}")
    else:
        assert other is not None
        in_session(cases.merge_cases, case_id, other, actor=actor(by), scope=everything())
        typer.echo(f"merged case {other} into case {case_id}")


@app.command("status")
def status(
    case_id: int = CASE_ID,
    new_status: str = typer.Argument(
        help="open, triage, containment, eradication, recovery, post_incident"
    ),
    by: str | None = BY_OPTION,
) -> None:
    """Move a case along its lifecycle (`cases close` closes it)."""
    from bastion import cases

    done = in_session(cases.set_status, case_id, new_status, actor=actor(by), scope=everything())
    typer.echo(f"case {done.id} is {done.status.value}")


@app.command("close")
def close(
    case_id: int = CASE_ID,
    resolution: str = typer.Option(..., "--resolution", help="how it ended, e.g. 'false positive'"),
    by: str | None = BY_OPTION,
) -> None:
    """Close a case with its resolution."""
    from bastion import cases

    in_session(
        cases.set_status,
        case_id,
        "closed",
        actor=actor(by),
        scope=everything(),
        resolution=resolution,
    )
    typer.echo(f"closed case {case_id}")


@app.command("assign")
def assign(
    case_id: int = CASE_ID,
    owner: str = typer.Argument(help="the user or team who owns it now"),
    by: str | None = BY_OPTION,
) -> None:
    """Give a case to a user or team (its organisations are notified)."""
    from bastion import cases

    in_session(
        cases.assign, case_id, owner, actor=actor(by), scope=everything(), notifier=_notifier()
    )
    typer.echo(f"case {case_id} assigned to {owner}")


@app.command("note")
def note(
    case_id: int = CASE_ID,
    text: str = typer.Argument(help="the note"),
    by: str | None = BY_OPTION,
) -> None:
    """Add a note to a case's timeline."""
    from bastion import cases

    in_session(cases.add_note, case_id, text, actor=actor(by), scope=everything())
    typer.echo(f"noted on case {case_id}")


@app.command("observable")
def observable(
    case_id: int = CASE_ID,
    kind: str = typer.Argument(help="ip, domain, url, hash, ja3, user or host"),
    value: str = typer.Argument(help="the observable's value"),
    tlp: str | None = typer.Option(None, "--tlp", help="its TLP (default: the case's)"),
    by: str | None = BY_OPTION,
) -> None:
    """Add an observable to a case."""
    from bastion import cases

    in_session(
        cases.add_observable, case_id, kind, value, actor=actor(by), scope=everything(), tlp=tlp
    )
    typer.echo(f"added {kind} {value} to case {case_id}")


@app.command("remind")
def remind(
    hours: int = typer.Option(
        24, "--groups-since-hours", min=1, help="notify new alert groups of the last HOURS"
    ),
) -> None:
    """Notify the cases whose regulatory clocks are nearly up and the new high or critical
    alert groups (each once); run from cron."""
    from datetime import timedelta

    from bastion import cases
    from bastion.core.timeutil import utcnow

    done = in_session(cases.remind_clocks, _notifier(), policy=cases.clock_policy(settings()))
    groups = in_session(
        cases.alert_groups_opened, _notifier(), since=utcnow() - timedelta(hours=hours)
    )
    typer.echo(f"{len(done)} reminders sent, {len(groups)} new alert groups notified")


@app.command("stats")
def stats(
    since: str | None = typer.Option(
        None, "--since", help="cases opened from (default: 30 days ago)"
    ),
    until: str | None = typer.Option(None, "--until", help="cases opened before (default: now)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show MTTA and MTTR (nationally, per severity, per organisation) and open cases by age."""
    from bastion import cases

    found = in_session(
        cases.case_stats,
        everything(),
        since=moment(since),
        until=moment(until),
        settings=settings(),
    )
    print_record(found, _stats_lines, as_json=as_json)


def _duration(seconds: float | None) -> str:
    return "-" if seconds is None else str(timedelta(seconds=round(seconds)))


def _stats_lines(found: CaseStats) -> Iterator[str]:
    yield f"cases opened {minute(found.since)} to {minute(found.until)} (UTC)"
    yield f"{'SLICE':<12} {'CASES':>6} {'ACKED':>6} {'CLOSED':>6}  {'MTTA':>16}  {'MTTR':>16}"
    for row in (found.overall, *found.by_severity, *found.by_organisation):
        yield (
            f"{row.key:<12} {row.cases:>6} {row.acknowledged:>6} {row.closed:>6}  "
            f"{_duration(row.mtta_seconds):>16}  {_duration(row.mttr_seconds):>16}"
        )
    yield "open cases by age: " + ", ".join(f"{k}: {v}" for k, v in found.open_by_age.items())
    for a in found.alerts:
        share = "-" if a.share_within_target is None else f"{a.share_within_target:.0%}"
        yield (
            f"alerts{f' of {a.org}' if a.org else ''}: {a.alerts} raised, {a.acknowledged} acknowledged, "
            f"{a.closed} closed; MTTA {_duration(a.mtta_seconds)}, MTTR {_duration(a.mttr_seconds)}; "
            f"high/critical acknowledged within {_duration(a.ack_target_seconds)}: {share} "
            f"of {a.urgent}"
        )
