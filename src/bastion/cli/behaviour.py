"""`bastion behaviour`: hunt the archive for beacons, tunnels, long connections, rare fingerprints.

``hunt`` analyses days now (the newest ``--days``, or a retro-hunt ``--since`` a
date) and lists the results best first; ``run`` is the scheduled job (from cron,
daily): it hunts only the days not hunted yet. The command line acts nationally;
every change is recorded in the audit trail as ``cli:<login>``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import typer

from bastion.cli.context import (
    BY_OPTION,
    actor,
    cli_session,
    command_group,
    everything,
    in_session,
    settings,
)
from bastion.cli.output import JSON_OPTION, Column, fields, print_record, print_rows

if TYPE_CHECKING:
    from bastion.behaviour import AllowEntry, BehaviourResult, HuntReport

app = command_group(
    "Behavioural hunting over the archive: beacons, DNS tunnels, rare fingerprints."
)
allow_app = command_group("The allow-list of known-good domains, addresses and fingerprints.")
app.add_typer(allow_app, name="allow")

ORG_OPTION = typer.Option(None, "--org", help="only this organisation's results")
RESULT_COLUMNS: list[Column[BehaviourResult]] = [
    *fields("id", "day", "org", "analytic", "host", "dest=DESTINATION"),
    ("SCORE", lambda r: f"{r.score:.2f}"),
    *fields("orgs", "connections=EVENTS", "status"),
]
ALLOW_COLUMNS: list[Column[AllowEntry]] = [
    *fields("id"),
    ("ORG", lambda e: e.org or "national"),
    *fields("kind", "value", "expires_on=EXPIRES", "reason"),
]


def _summary(report: HuntReport) -> str:
    return (
        f"hunted {len(report.days)} day(s): {report.results} result(s), {report.alerting} "
        f"alerting, {report.allowed} allow-listed, {report.alerts_created} new alert(s)"
    )


def _list_after(report: HuntReport, org: str | None, min_score: float, as_json: bool) -> None:
    from bastion import behaviour

    with cli_session() as session:
        found, total = behaviour.list_results(
            session, everything(), days=report.days, org=org, min_score=min_score, limit=10_000
        )
    if not as_json:
        typer.echo(_summary(report))
    print_rows(
        found,
        RESULT_COLUMNS,
        as_json,
        data={"days": report.days, "summary": _summary(report), "results": found},
        total=total,
        noun="results",
    )


@app.command("hunt")
def hunt(
    days: int = typer.Option(1, "--days", min=1, max=366, help="the newest N days of the archive"),
    since: str | None = typer.Option(
        None, "--since", help="retro-hunt every day from this date (YYYY-MM-DD) instead"
    ),
    org: str | None = ORG_OPTION,
    min_score: float = typer.Option(0.0, "--min-score", min=0.0, max=1.0, help="hide lower"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Hunt days of the archive now; list their results best first (federation-wide first)."""
    from bastion import behaviour
    from bastion.core.errors import InputError

    root = settings().archive_dir
    with cli_session() as session:
        if since is None:
            chosen = behaviour.days_to_hunt(session, root, last=days)
        else:
            try:
                first = date.fromisoformat(since)
            except ValueError:
                msg = f"--since takes a date as YYYY-MM-DD, not {since!r}"
                raise InputError(msg) from None
            chosen = [d for d in behaviour.days_to_hunt(session, root, last=366) if d >= first]
        report = behaviour.hunt_days(
            session, root, chosen, actor=actor(by), retrospective=since is not None
        )
    _list_after(report, org, min_score, as_json)


@app.command("run")
def run(by: str | None = BY_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Hunt the days not hunted yet, up to yesterday (the daily scheduled job, from cron)."""
    from bastion import behaviour

    root = settings().archive_dir
    with cli_session() as session:
        chosen = behaviour.days_to_hunt(session, root)
        report = behaviour.hunt_days(session, root, chosen, actor=actor(by))
    print_record(report, lambda r: [_summary(r)], as_json=as_json)


@app.command("results")
def results(
    org: str | None = ORG_OPTION,
    day: str | None = typer.Option(None, "--day", help="only this day (YYYY-MM-DD)"),
    status: str | None = typer.Option(None, "--status", help="open, allowed or benign"),
    min_score: float = typer.Option(0.0, "--min-score", min=0.0, max=1.0, help="hide lower"),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000, help="show at most this many"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List stored results best first: destinations seen at several organisations first."""
    from bastion import behaviour
    from bastion.core.errors import InputError

    try:
        days = [date.fromisoformat(day)] if day else None
    except ValueError:
        msg = f"--day takes a date as YYYY-MM-DD, not {day!r}"
        raise InputError(msg) from None
    found, total = in_session(
        behaviour.list_results,
        everything(),
        days=days,
        org=org,
        status=status,
        min_score=min_score,
        limit=limit,
    )
    print_rows(found, RESULT_COLUMNS, as_json, total=total, noun="results")


def _result_lines(result: BehaviourResult) -> list[str]:
    parts = ", ".join(f"{k} {v}" for k, v in result.parts.items())
    lines = [
        f"{result.analytic} from {result.host} ({result.org}) to {result.dest} on {result.day}",
        f"score {result.score:.2f} ({parts}); {result.connections} events; "
        f"{result.orgs} organisation(s); status {result.status}",
        f"first seen {result.first_seen:%Y-%m-%d %H:%M:%S}, last {result.last_seen:%H:%M:%S}",
    ]
    lines += [f"  {s.get('raw') or ''}"[:300] for s in result.evidence.get("samples", [])]
    if result.evidence.get("hunt"):
        lines.append("hunt around it:\n" + result.evidence["hunt"])
    return lines


@app.command("show")
def show(
    result_id: int = typer.Argument(help="a result's id"), as_json: bool = JSON_OPTION
) -> None:
    """Show one result: its score's parts, sample lines and the hunt around it."""
    from bastion import behaviour

    print_record(in_session(behaviour.get_result, everything(), result_id), _result_lines,
                 as_json=as_json)  # fmt: skip


EXPIRES_OPTION = typer.Option(
    None, "--expires", help="expiry date YYYY-MM-DD (default: in 90 days)"
)
REASON_OPTION = typer.Option(..., "--reason", help="why it is known good")


def _expiry(text: str | None) -> date:
    from bastion.core.errors import InputError
    from bastion.core.timeutil import utcnow

    if text is None:
        return utcnow().date() + timedelta(days=90)
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"--expires takes a date as YYYY-MM-DD, not {text!r}"
        raise InputError(msg) from None


@app.command("benign")
def benign(
    result_id: int = typer.Argument(help="a result's id"),
    reason: str = REASON_OPTION,
    expires: str | None = EXPIRES_OPTION,
    national: bool = typer.Option(False, "--national", help="allow it for every organisation"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Mark a result benign: what it was about joins the allow-list."""
    from bastion import behaviour

    _, entry = in_session(
        behaviour.mark_benign, everything(), result_id, reason=reason,
        expires_on=_expiry(expires), national=national, actor=actor(by),
    )  # fmt: skip
    print_rows([entry], ALLOW_COLUMNS, as_json)


@allow_app.command("add")
def allow_add(
    kind: str = typer.Argument(help="domain, address or fingerprint"),
    value: str = typer.Argument(help="the domain, address (or CIDR) or JA3/JA4 value"),
    org: str | None = typer.Option(None, "--org", help="one organisation's (default: national)"),
    reason: str = REASON_OPTION,
    expires: str | None = EXPIRES_OPTION,
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Allow known-good traffic, nationally or for one organisation, until a date."""
    from bastion import behaviour

    made = in_session(
        behaviour.add_allowed, everything(), org=org, kind=kind.strip().lower(), value=value,
        reason=reason, expires_on=_expiry(expires), actor=actor(by),
    )  # fmt: skip
    print_rows([made], ALLOW_COLUMNS, as_json)


@allow_app.command("list")
def allow_list(as_json: bool = JSON_OPTION) -> None:
    """List the allow-list: national entries first."""
    from bastion import behaviour

    print_rows(in_session(behaviour.list_allowed, everything()), ALLOW_COLUMNS, as_json)


@allow_app.command("remove")
def allow_remove(
    entry_id: int = typer.Argument(help="an entry's id"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Remove an allow-list entry."""
    from bastion import behaviour

    gone = in_session(behaviour.remove_allowed, everything(), entry_id, actor=actor(by))
    print_rows([gone], ALLOW_COLUMNS, as_json)
