"""`bastion audit`: the one append-only audit trail of every change, from every door."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bastion.cli.context import command_group, in_session, limit_option, second
from bastion.cli.output import CSV_OPTION, JSON_OPTION, Column, fields, print_rows
from bastion.core.errors import InputError

if TYPE_CHECKING:
    from bastion.audit import AuditEvent

app = command_group("The append-only audit trail of every change.")

EVENT_COLUMNS: list[Column[AuditEvent]] = [
    *fields("id"),
    ("AT", lambda e: second(e.at)),
    *fields("actor", "actor_ip=FROM", "action", "target"),
]


@app.command("list")
def list_(
    action: str | None = typer.Option(None, "--action", help="actions starting with this"),
    actor: str | None = typer.Option(None, "--actor", help="e.g. user:alice, token:3, cli:root"),
    org: str | None = typer.Option(None, "--org", help="only this organisation's events"),
    target: str | None = typer.Option(None, "--target", help="e.g. organisation:RAL"),
    limit: int = limit_option(50),
    as_json: bool = JSON_OPTION,
    as_csv: bool = CSV_OPTION,
) -> None:
    """List audit events, newest first."""
    from bastion import audit

    found, total = in_session(
        audit.list_events, action=action, actor=actor, org=org, target=target, limit=limit
    )
    print_rows(found, EVENT_COLUMNS, as_json, as_csv, total=total, noun="events")


@app.command("export")
def export(
    fmt: str = typer.Option("csv", "--format", help="csv or json"),
    output: Path | None = typer.Option(None, "--output", "-o", help="write here (default: stdout)"),
) -> None:
    """Export the whole audit trail, oldest first, as CSV or JSON."""
    from bastion import audit

    if fmt not in {"csv", "json"}:
        msg = f"unknown export format {fmt!r}; choose csv or json"
        raise InputError(msg)
    found, _ = in_session(audit.list_events)
    text = audit.export_csv(found) if fmt == "csv" else audit.export_json(found)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {len(found)} events to {output}", err=True)
