"""`bastion audit`: the one append-only audit trail of every change, from every door."""

from __future__ import annotations

from pathlib import Path

import typer

from bastion import audit
from bastion.cli.context import JSON_OPTION, print_json, print_table, store
from bastion.core.errors import InputError

app = typer.Typer(help="The append-only audit trail of every change.", no_args_is_help=True)


@app.command("list")
def list_(
    action: str | None = typer.Option(None, "--action", help="actions starting with this"),
    actor: str | None = typer.Option(None, "--actor", help="e.g. user:alice, token:3, cli:root"),
    org: str | None = typer.Option(None, "--org", help="only this organisation's events"),
    target: str | None = typer.Option(None, "--target", help="e.g. organisation:RAL"),
    limit: int = typer.Option(50, "--limit", min=1),
    as_json: bool = JSON_OPTION,
) -> None:
    """List audit events, newest first."""
    with store().session() as session:
        found, total = audit.list_events(
            session, action=action, actor=actor, org=org, target=target, limit=limit
        )
    if as_json:
        print_json(found)
        return
    print_table(
        ["ID", "AT", "ACTOR", "FROM", "ACTION", "TARGET"],
        [
            (e.id, f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.actor_ip, e.action, e.target)
            for e in found
        ],
    )
    typer.echo(f"{len(found)} of {total} events", err=True)


@app.command("export")
def export(
    fmt: str = typer.Option("csv", "--format", help="csv or json"),
    output: Path | None = typer.Option(None, "--output", "-o", help="write here (default: stdout)"),
) -> None:
    """Export the whole audit trail, oldest first, as CSV or JSON."""
    if fmt not in {"csv", "json"}:
        msg = f"unknown export format {fmt!r}; choose csv or json"
        raise InputError(msg)
    with store().session() as session:
        found, _ = audit.list_events(session)
    text = audit.export_csv(found) if fmt == "csv" else audit.export_json(found)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {len(found)} events to {output}", err=True)
