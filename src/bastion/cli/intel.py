"""`bastion intel`: threat indicators — import feeds, list and show what is listed."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from bastion import intel
from bastion.cli.context import JSON_OPTION, print_json, print_table, store

app = typer.Typer(
    help="Manage threat indicators and the feeds they come from.", no_args_is_help=True
)


def _plain(indicator: intel.Indicator) -> dict[str, Any]:
    return {"id": indicator.id, **dataclasses.asdict(indicator)}


def _day(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d")


@app.command("import")
def import_(
    file: Path = typer.Argument(help="CSV or JSON indicators (columns: type, value, source …)"),
    source: str | None = typer.Option(
        None, "--source", "-s", help="source of rows that name none (default: the file's name)"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import indicators from a file, all or nothing."""
    found = intel.load_indicator_file(file, source=source)
    with store().session() as session:
        created, updated = intel.save_indicators(session, found)
    by_type = dict(sorted(Counter(i.type.value for i in found).items()))
    if as_json:
        report = {"file": file, "read": len(found), "created": created, "updated": updated}
        print_json({**report, "by_type": by_type})
        return
    kinds = ", ".join(f"{n} {t}" for t, n in by_type.items()) or "none"
    typer.echo(f"imported {file}: {created} created, {updated} updated ({kinds})")


@app.command("list")
def list_(
    type: str | None = typer.Option(
        None, "--type", "-t", help="only this type: ipv4, ipv6, cidr, domain, url, url_pattern …"
    ),
    search: str | None = typer.Option(
        None, "--search", "-s", help="part of the value, threat or source"
    ),
    limit: int | None = typer.Option(50, "--limit", min=1, help="at most this many (default 50)"),
    offset: int = typer.Option(0, "--offset", min=0, help="skip this many first"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List indicators, by type and value."""
    with store().session() as session:
        found, total = intel.list_indicators(
            session, type=type, search=search, limit=limit, offset=offset
        )
    if as_json:
        print_json([_plain(i) for i in found])
        return
    print_table(
        ["TYPE", "VALUE", "SOURCE", "SEVERITY", "CONF", "ACTION", "THREAT", "VALID UNTIL"],
        [
            (
                i.type.value,
                i.value,
                i.source,
                i.severity.value,
                i.confidence,
                i.action.value,
                i.threat,
                _day(i.valid_until),
            )
            for i in found
        ],
    )
    typer.echo(f"{len(found)} of {total} indicators", err=True)


@app.command("show")
def show(
    indicator_id: str = typer.Argument(help="type:value, e.g. domain:evil.example"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show every source's listing of one indicator."""
    with store().session() as session:
        found = intel.get_indicator(session, indicator_id)
    if as_json:
        print_json([_plain(i) for i in found])
        return
    typer.echo(found[0].id)
    for i in found:
        threat = f"  threat: {i.threat}" if i.threat else ""
        until = f"  valid until {_day(i.valid_until)}" if i.valid_until else ""
        typer.echo(
            f"  {i.source}: {i.severity.value}, confidence {i.confidence}, {i.action.value}"
            f"{threat}{until}"
        )
