"""`bastion inventory` and `bastion exposures`: organisations' components and what affects them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bastion.cli.context import actor, cli_session, command_group, in_session, minute
from bastion.cli.output import CSV_OPTION, JSON_OPTION, Column, fields, print_record, print_rows
from bastion.core.errors import InputError

if TYPE_CHECKING:
    from bastion.advisories import Exposure
    from bastion.advisories.exposure import InventoryReport
    from bastion.advisories.holdings import InventorySummary

inventory_app = command_group("Organisations' inventories and SBOMs.")
exposures_app = command_group("Which organisations' components vulnerabilities affect.")

INVENTORY_COLUMNS: list[Column[InventorySummary]] = [
    *fields("organisation=ORG", "name", "format", "spec_version=SPEC", "components", "rejected"),
    ("IMPORTED", lambda i: minute(i.imported_at)),
]
EXPOSURE_COLUMNS: list[Column[Exposure]] = [
    *fields(
        "organisation=ORG", "vulnerability", "component", "version", "range", "source", "status"
    ),
]


def _import_lines(report: InventoryReport) -> Iterator[str]:
    yield (
        f"imported {report.inventory} for {report.organisation} ({report.format} {report.spec_version}): "
        f"{report.components} components, {len(report.rejected)} rejected, "
        f"{report.vex_statements} VEX statements, {report.exposures} exposures"
    )


@inventory_app.command("import")
def inventory_import(
    org: str = typer.Argument(help="organisation code"),
    file: Path = typer.Argument(help="CycloneDX JSON/XML, SPDX JSON, OpenVEX or CSV"),
    name: str | None = typer.Option(
        None, "--name", help="inventory name (default: the file's name)"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import an organisation's inventory or VEX, detecting its format, and match it."""
    from bastion import advisories as adv

    if not file.is_file():
        msg = f"{file}: no such file"
        raise InputError(msg)
    report = in_session(
        adv.import_inventory, org, file.read_bytes(), name or file.name, actor=actor()
    )
    rejected = [
        f"  rejected component {r['index']} {r['name']}: {r['reason']}" for r in report.rejected
    ]
    print_record(report, _import_lines, as_json=as_json, footer="\n".join(rejected) or None)


@inventory_app.command("list")
def inventory_list(
    org: str | None = typer.Option(None, "--org", "-o", help="only this organisation's"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List inventories."""
    from bastion import advisories as adv

    found = in_session(adv.list_inventories, org)
    print_rows(found, INVENTORY_COLUMNS, as_json)


@exposures_app.command("list")
def exposures_list(
    org: str | None = typer.Option(None, "--org", "-o", help="only this organisation"),
    vulnerability: str | None = typer.Option(None, "--vuln", help="only this CVE or GHSA"),
    status: str | None = typer.Option(
        "affected",
        "--status",
        help="affected (default), not_affected, fixed; 'all' for every status",
    ),
    as_json: bool = JSON_OPTION,
    as_csv: bool = CSV_OPTION,
) -> None:
    """List exposures, each with the component, version, range and source record."""
    from bastion import advisories as adv

    found = in_session(
        adv.list_exposures,
        org=org,
        vulnerability=vulnerability,
        status=None if status == "all" else status,
    )
    print_rows(found, EXPOSURE_COLUMNS, as_json, as_csv)


@exposures_app.command("rematch")
def exposures_rematch() -> None:
    """Match every inventory against every vulnerability from scratch."""
    from bastion import advisories as adv

    held = in_session(adv.rematch_all, actor=actor())
    typer.echo(f"{held} exposures")


@inventory_app.command("demo")
def inventory_demo(seed: int = typer.Option(7, "--seed", help="the demo generator's seed")) -> None:
    """Load demo SBOMs (some with vulnerable Log4j) for every trust and ICB already held.

    With no vulnerability records in the database yet, the demo's own are imported first
    (Log4Shell and a few others), so the SBOMs meet exposures.
    """
    from bastion import advisories as adv
    from bastion import orgs
    from bastion.demo.inventories import demo_inventories
    from bastion.demo.national import load_demo_vulnerabilities

    with cli_session() as session:
        if not adv.list_vulnerabilities(session, limit=1):
            count = load_demo_vulnerabilities(session, actor=actor())
            typer.echo(f"imported the demo's {count} vulnerability records")
        held, _ = orgs.list_organisations(session)
        loaded = demo_inventories(held, seed)
        exposures = 0
        for code, name, data in loaded:
            exposures += adv.import_inventory(session, code, data, name, actor=actor()).exposures
    typer.echo(f"loaded {len(loaded)} demo inventories, {exposures} exposures")
