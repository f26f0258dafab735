"""`bastion inventory` and `bastion exposures`: organisations' components and what affects them."""

from __future__ import annotations

from pathlib import Path

import typer

from bastion import advisories as adv
from bastion.audit import Actor
from bastion.cli.context import JSON_OPTION, minute, print_json, print_table, store
from bastion.core.errors import InputError

inventory_app = typer.Typer(help="Organisations' inventories and SBOMs.", no_args_is_help=True)
exposures_app = typer.Typer(
    help="Which organisations' components vulnerabilities affect.", no_args_is_help=True
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
    if not file.is_file():
        msg = f"{file}: no such file"
        raise InputError(msg)
    with store().session() as session:
        report = adv.import_inventory(
            session, org, file.read_bytes(), name or file.name, actor=Actor.cli()
        )
    if as_json:
        print_json(report)
        return
    typer.echo(
        f"imported {report.inventory} for {report.organisation} ({report.format} {report.spec_version}): "
        f"{report.components} components, {len(report.rejected)} rejected, "
        f"{report.vex_statements} VEX statements, {report.exposures} exposures"
    )
    for reject in report.rejected:
        typer.echo(
            f"  rejected component {reject['index']} {reject['name']}: {reject['reason']}", err=True
        )


@inventory_app.command("list")
def inventory_list(
    org: str | None = typer.Option(None, "--org", "-o"), as_json: bool = JSON_OPTION
) -> None:
    """List inventories."""
    with store().session() as session:
        found = adv.list_inventories(session, org)
    if as_json:
        print_json(found)
        return
    print_table(
        ["ORG", "NAME", "FORMAT", "SPEC", "COMPONENTS", "REJECTED", "IMPORTED"],
        [(i.organisation, i.name, i.format, i.spec_version, i.components, i.rejected, minute(i.imported_at))
         for i in found],
    )  # fmt: skip


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
) -> None:
    """List exposures, each with the component, version, range and source record."""
    with store().session() as session:
        found = adv.list_exposures(
            session,
            org=org,
            vulnerability=vulnerability,
            status=None if status == "all" else status,
        )
    if as_json:
        print_json(found)
        return
    print_table(
        ["ORG", "VULNERABILITY", "COMPONENT", "VERSION", "RANGE", "SOURCE", "STATUS"],
        [
            (e.organisation, e.vulnerability, e.component, e.version, e.range, e.source, e.status)
            for e in found
        ],
    )


@exposures_app.command("rematch")
def exposures_rematch() -> None:
    """Match every inventory against every vulnerability from scratch."""
    with store().session() as session:
        held = adv.rematch_all(session, actor=Actor.cli())
    typer.echo(f"{held} exposures")


@inventory_app.command("demo")
def inventory_demo(seed: int = typer.Option(7, "--seed", help="the demo generator's seed")) -> None:
    """Load demo SBOMs (some with vulnerable Log4j) for every trust and ICB already held."""
    from bastion import orgs
    from bastion.demo.inventories import demo_inventories

    with store().session() as session:
        held, _ = orgs.list_organisations(session)
        loaded = demo_inventories(held, seed)
        exposures = 0
        for code, name, data in loaded:
            exposures += adv.import_inventory(
                session, code, data, name, actor=Actor.cli()
            ).exposures
    typer.echo(f"loaded {len(loaded)} demo inventories, {exposures} exposures")
