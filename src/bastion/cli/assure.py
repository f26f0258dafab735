"""`bastion assure`: framework libraries, returns, the DSPT snapshot, readiness, drift, the dashboard.

The command line acts nationally (it runs as whoever holds the server); each
change is recorded in the audit trail as ``cli:<login>`` (``--by`` to name someone else).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bastion.cli.assure_reviews import plan_app, reviews_app
from bastion.cli.context import (
    BY_OPTION,
    actor,
    command_group,
    day,
    everything,
    in_session,
    limit_option,
    minute,
    settings,
)
from bastion.cli.output import CSV_OPTION, JSON_OPTION, Column, fields, print_record, print_rows
from bastion.core.errors import InputError

if TYPE_CHECKING:
    from bastion.assure.catalogue import FrameworkSummary
    from bastion.assure.returns import ReturnSummary
    from bastion.assure.views import ReturnView

app = command_group(
    "Assurance: frameworks, self-assessment returns, readiness and the national picture."
)
frameworks_app = command_group(
    "Framework libraries (CAF, DSPT-style, Cyber Essentials): list and import."
)
returns_app = command_group(
    "Self-assessment returns: list, show, open, answer, publish, export, import."
)
app.add_typer(frameworks_app, name="frameworks")
app.add_typer(returns_app, name="returns")
app.add_typer(reviews_app, name="reviews")
app.add_typer(plan_app, name="plan")
RETURN_ID = typer.Argument(help="the return's id")


FRAMEWORK_COLUMNS: list[Column[FrameworkSummary]] = fields(
    "ref=FRAMEWORK", "version", "kind", "outcomes", "statements", "title"
)


@frameworks_app.command("list")
def frameworks_list(as_json: bool = JSON_OPTION) -> None:
    """List the stored frameworks: each one's version and outcome count."""
    from bastion.assure.catalogue import list_frameworks

    print_rows(in_session(list_frameworks), FRAMEWORK_COLUMNS, as_json)


@frameworks_app.command("import")
def frameworks_import(
    file: Path = typer.Argument(
        ..., help="a library YAML (Bastion's or WebCAF's CAF), or dspt / cyber-essentials"
    ),
    version: str | None = typer.Option(
        None, "--version", help="the version, if the file does not say"
    ),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Validate a framework library against its schema and store it (replacing the same version)."""
    from bastion.assure.catalogue import import_framework

    found = in_session(import_framework, file, actor=actor(by), version=version)
    print_record(found, lambda f: [f"stored {f.ref}: {f.outcomes} outcomes, {f.statements} statements"],
                 as_json=as_json)  # fmt: skip


RETURN_COLUMNS: list[Column[ReturnSummary]] = [
    *fields("id", "org", "period", "framework", "state", "version=V", "status"),
    ("PUBLISHED", lambda r: day(r.published_at)),
    ("LATE", lambda r: "late" if r.late else ""),
    ("DRIFT", lambda r: r.drift or ""),
]


@returns_app.command("list")
def returns_list(
    org: str | None = typer.Option(None, "--org", "-o", help="only this organisation's returns"),
    period: str | None = typer.Option(None, "--period", help="only this period (2024-25)"),
    state: str | None = typer.Option(None, "--state", help="draft or published"),
    limit: int = limit_option(100),
    as_json: bool = JSON_OPTION,
    as_csv: bool = CSV_OPTION,
) -> None:
    """List returns, latest period first: state, version, published status, late, drift flags."""
    from bastion.assure.returns import list_returns

    found, total = in_session(
        list_returns, everything(), org=org, period=period, state=state, limit=limit
    )
    print_rows(found, RETURN_COLUMNS, as_json, as_csv, total=total, noun="returns")


def _return_lines(shown: ReturnView) -> Iterator[str]:
    yield (f"return {shown.id}  {shown.org}  {shown.period}  {shown.framework}  {shown.state} "
           f"v{shown.version}  status: {shown.status or '-'} (now: {shown.working_status or '-'})")  # fmt: skip
    yield (f"profile {shown.profile}; deadline {shown.deadline}{' LATE' if shown.late else ''}; "
           f"answered {shown.answered}/{shown.asked} ({shown.progress:.0%})")  # fmt: skip
    for outcome in shown.outcomes:
        need = outcome.required or "not asked"
        mark = "" if outcome.meets else "  BELOW PROFILE"
        yield f"  {outcome.id:<8} {outcome.status:<20} need {need:<20} {outcome.title}{mark}"
    for review in shown.reviews:
        yield f"review: {review.kind} by {review.reviewer}: {review.state}"
    for flag in shown.drift:
        yield f"DRIFT: outcome {flag['outcome']} ({flag['statement']}): {flag['summary']}"


@returns_app.command("show")
def returns_show(
    return_id: int = typer.Argument(help="the return's id, from `bastion assure returns list`"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a return: progress, each outcome's status against the profile, reviews, drift."""
    from bastion.assure.returns import view, visible_row

    shown = in_session(lambda s: view(s, visible_row(s, return_id, everything())))
    print_record(shown, _return_lines, as_json=as_json)


@returns_app.command("open")
def returns_open(
    org: str = typer.Argument(help="the organisation's code"),
    period: str = typer.Argument(help="the period, e.g. 2024-25"),
    framework: str = typer.Option(
        "dspt", "--framework", "-f", help="key or key@version (default dspt)"
    ),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Open an organisation's return for a period; its earlier plan's open actions pass to it."""
    from bastion.assure.returns import open_return

    shown = in_session(open_return, org, period, framework, actor=actor(by), scope=everything(),
                       deadline_day=settings().assure_deadline)  # fmt: skip
    print_record(shown, _return_lines, as_json=as_json)


ANSWERS = {"yes": True, "no": False, "clear": None}


@returns_app.command("answer")
def returns_answer(
    return_id: int = RETURN_ID,
    statement: str = typer.Argument(help="the statement's id (see `returns show --json`)"),
    answer: str = typer.Argument(help="yes, no or clear"),
    comment: str | None = typer.Option(None, "--comment", help="a comment on the answer"),
    alternative: str | None = typer.Option(
        None, "--alternative", help="why an alternative control meets it"
    ),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Answer one statement of a return (a published return becomes a draft to republish)."""
    from bastion.assure.returns import update_return

    if answer.lower() not in ANSWERS:
        msg = f"answer yes, no or clear, not {answer!r}"
        raise InputError(msg)
    notes: dict[str, Any] = {}
    if comment is not None or alternative is not None:
        notes = {statement: {"text": comment or "", "alternative": alternative or ""}}
    shown = in_session(update_return, return_id, actor=actor(by), scope=everything(),
                       answers={statement: ANSWERS[answer.lower()]}, comments=notes)  # fmt: skip
    print_record(shown, _return_lines, as_json=as_json)


@returns_app.command("publish")
def returns_publish(
    return_id: int = RETURN_ID,
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Publish a return as its next version (immutable), with the diff from the last."""
    from bastion.assure.returns import publish

    shown = in_session(publish, return_id, actor=actor(by), scope=everything())
    print_record(shown, _return_lines, as_json=as_json)


@returns_app.command("export")
def returns_export(
    return_id: int = RETURN_ID,
    output: Path | None = typer.Option(
        None, "--output", "-o", help="write XLSX or PDF here (by its suffix)"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Export a return: to an XLSX or PDF file (--output), or as JSON (--json)."""
    from bastion.assure.export import FORMATS, export_return
    from bastion.assure.returns import view, visible_row

    shown = in_session(lambda s: view(s, visible_row(s, return_id, everything())))
    if output is None:
        print_record(shown, _return_lines, as_json=as_json)
        return
    fmt = output.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        msg = f"--output names an .xlsx or .pdf file, not {output.name!r}"
        raise InputError(msg)
    output.write_bytes(export_return(shown, fmt))
    print_record(
        output, lambda p: [f"wrote {p}"], as_json=as_json, data={"file": str(output), "format": fmt}
    )


@returns_app.command("import")
def returns_import(
    snapshot: Path = typer.Argument(..., help="a published DSPT snapshot CSV (statuses and dates)"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import a DSPT snapshot's published statuses as historical returns (replacing the same period)."""
    from bastion.assure.snapshot import import_snapshot

    report = in_session(import_snapshot, snapshot, actor=actor(by))
    lines = [f"{report.returns} returns for {', '.join(report.periods)}"]
    lines += [f"  {status}: {n}" for status, n in sorted(report.by_status.items())]
    lines += [f"skipped: {s}" for s in report.skipped]
    print_record(report, lambda _r: lines, as_json=as_json)


@app.command("score")
def score(
    org: str = typer.Argument(help="the organisation's code"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show an organisation's Cyber Essentials Plus readiness, its formula and its history."""
    from bastion.assure.readiness import org_readiness

    found = in_session(org_readiness, org, everything())
    lines = [
        f"{found.org}: readiness {found.score:.1f}% (return {found.return_id}, {found.period})"
    ]
    lines += [f"  {control}: {value:.1f}%" for control, value in found.controls.items()]
    lines += [f"  automatic fail: {', '.join(found.failed)}"] if found.failed else []
    lines += [f"history: {minute(at)} {value:.1f}%" for at, value in found.history]
    print_record(found, lambda _f: lines, as_json=as_json)


DRIFT_COLUMNS = fields("return_id=RETURN", "org", "outcome", "summary=EVIDENCE")


@app.command("drift")
def drift(by: str | None = BY_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Compare telemetry with published returns: flag contradicted claims and raise alerts."""
    from bastion.assure.drift import detect_drift

    flags = in_session(detect_drift, actor=actor(by), scope=everything())
    print_rows(flags, DRIFT_COLUMNS, as_json, footer=f"{len(flags)} drift flag(s)")


@app.command("dashboard")
def dashboard(
    period: str | None = typer.Option(None, "--period", help="the period (default: the latest)"),
    framework: str = typer.Option("dspt", "--framework", "-f", help="key or key@version"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show the national picture: statuses, late and missing returns, weakest outcomes, readiness."""
    from bastion.assure.national import dashboard as national

    shown = in_session(national, everything(), period, framework)
    lines = [
        f"{shown.framework} {shown.period}: "
        + ", ".join(f"{k} {v}" for k, v in shown.statuses.items())
    ]
    lines += [
        f"late: {len(shown.late)}   missing: {len(shown.missing)}   drift: {len(shown.drift)}"
    ]
    lines += [
        f"weak: {w['outcome']} {w['title']} ({w['share_not_best']:.0%} not at best)"
        for w in shown.weakest[:5]
    ]
    print_record(shown, lambda _d: lines, as_json=as_json)


@app.command("remind")
def remind(
    days: int = typer.Option(
        30, "--days", min=0, help="remind of returns due within this many days"
    ),
    attempts: int = typer.Option(3, "--attempts", min=1, help="tries per e-mail"),
    backoff: float = typer.Option(
        1.0, "--backoff", min=0.0, help="seconds before a retry (doubling)"
    ),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """E-mail reminders (BASTION_SMTP_*): returns due, overdue or missing; reviews still to do."""
    from bastion.assure.reminders import send_reminders
    from bastion.core.delivery import SmtpConfig

    report = in_session(send_reminders, SmtpConfig.from_env(), actor=actor(by), days=days,
                        deadline_day=settings().assure_deadline, attempts=attempts, backoff=backoff)  # fmt: skip
    lines = [f"sent {len(report.sent)} reminder(s), {len(report.failed)} failed, "
             f"{len(report.unreachable)} with no address"]  # fmt: skip
    lines += [f"  sent {r.kind} to {r.org}: {', '.join(r.recipients)}" for r in report.sent]
    lines += [f"  FAILED {r.kind} to {r.org}: {why}" for r, why in report.failed]
    print_record(report, lambda _r: lines, as_json=as_json)
