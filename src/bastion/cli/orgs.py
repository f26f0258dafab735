"""`bastion orgs`: the federation's organisations, networks, contacts and hosts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bastion.cli.context import actor, command_group, in_session
from bastion.cli.output import CSV_OPTION, JSON_OPTION, Column, fields, print_record, print_rows

if TYPE_CHECKING:
    from bastion.orgs import Organisation

ORG_CODE = typer.Argument(help="the organisation's code")

ORGANISATION_COLUMNS: list[Column[Organisation]] = [
    *fields("code", "type", "parent"),
    ("NETWORKS", lambda o: len(o.networks)),
    *fields("name"),
]

app = command_group("Manage the federation: organisations, their networks, contacts and hosts.")


@app.command("add")
def add(
    code: str = typer.Argument(help="ODS-style code, e.g. R0A or A81001"),
    name: str = typer.Argument(help="the organisation's name"),
    type: str = typer.Option(
        "trust",
        "--type",
        "-t",
        help="icb, trust, gp_practice, care_provider, supplier, arms_length_body, region, other",
    ),
    parent: str | None = typer.Option(
        None, "--parent", "-p", help="code of the parent (an ICB or region)"
    ),
    network: list[str] = typer.Option(
        [], "--network", "-n", help="a CIDR it owns; repeat for more"
    ),
    host: list[str] = typer.Option(
        [], "--host", help="an internet-facing host name; repeat for more"
    ),
) -> None:
    """Add an organisation to the federation."""
    from bastion import orgs

    org = orgs.Organisation(
        code=code,
        name=name,
        type=orgs.OrgType.parse(type),
        parent=parent,
        networks=tuple(network),
        hosts=tuple(orgs.Host(h) for h in host),
    )
    in_session(orgs.save_organisation, org, actor=actor(), create_only=True)
    typer.echo(f"added {org.code.upper()}")


@app.command("list")
def list_(
    search: str | None = typer.Option(None, "--search", "-s", help="part of a name or code"),
    type: str | None = typer.Option(None, "--type", "-t", help="only this organisation type"),
    parent: str | None = typer.Option(None, "--parent", "-p", help="only children of this code"),
    limit: int | None = typer.Option(None, "--limit", min=1, help="at most this many"),
    as_json: bool = JSON_OPTION,
    as_csv: bool = CSV_OPTION,
) -> None:
    """List organisations."""
    from bastion import orgs

    found, total = in_session(
        orgs.list_organisations,
        search=search,
        type=orgs.OrgType.parse(type) if type else None,
        parent=parent,
        limit=limit,
    )
    print_rows(found, ORGANISATION_COLUMNS, as_json, as_csv, total=total, noun="organisations")


def _organisation_lines(org: Organisation) -> Iterator[str]:
    yield f"{org.code}  {org.name}"
    yield f"type: {org.type.value}   parent: {org.parent or '-'}   children: {org.children}"
    yield f"networks: {' '.join(org.networks) or '-'}"
    yield f"hosts: {' '.join(h.hostname for h in org.hosts) or '-'}"
    for c in org.contacts:
        yield f"contact: {c.name} <{c.email}> ({c.role})"


@app.command("show")
def show(
    code: str = typer.Argument(help="the organisation's code"), as_json: bool = JSON_OPTION
) -> None:
    """Show one organisation with its networks, contacts and hosts."""
    from bastion import orgs

    org = in_session(orgs.get_organisation, code)
    print_record(org, _organisation_lines, as_json=as_json)


@app.command("add-network")
def add_network(
    code: str = ORG_CODE,
    cidr: str = typer.Argument(help="IPv4 or IPv6 network, e.g. 10.1.0.0/16"),
) -> None:
    """Register a network (CIDR) to an organisation; nested allocations are allowed."""
    from bastion import orgs

    canonical = in_session(orgs.add_network, code, cidr, actor=actor())
    typer.echo(f"{code.upper()} owns {canonical}")


@app.command("add-contact")
def add_contact(
    code: str = ORG_CODE,
    name: str = typer.Argument(help="the contact's name"),
    email: str = typer.Argument(help="their e-mail address"),
    role: str = typer.Option("security lead", help="their role"),
) -> None:
    """Add a contact to an organisation."""
    from bastion import orgs

    in_session(orgs.add_contact, code, orgs.Contact(name, email, role), actor=actor())
    typer.echo(f"added contact {email} to {code.upper()}")


@app.command("add-host")
def add_host(
    code: str = ORG_CODE,
    hostname: str = typer.Argument(help="the host's name, e.g. www.example.nhs.uk"),
) -> None:
    """Register an internet-facing host of an organisation."""
    from bastion import orgs

    in_session(orgs.add_host, code, orgs.Host(hostname), actor=actor())
    typer.echo(f"added host {hostname} to {code.upper()}")


@app.command("import")
def import_(
    file: Path = typer.Argument(help="CSV: Bastion's own format or a published DSPT snapshot"),
    format: str | None = typer.Option(
        None, "--format", "-f", help="bastion, dspt-trusts or dspt-icb; detected when omitted"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import organisations from CSV, all or nothing."""
    from bastion import orgs

    report = in_session(orgs.import_organisations, file, format, actor=actor())
    kinds = ", ".join(f"{n} {t}" for t, n in sorted(report.by_type.items()))
    print_record(
        report,
        lambda r: [
            f"imported {file} ({r.format}): {r.created} created, {r.updated} updated ({kinds})"
        ],
        as_json=as_json,
    )


@app.command("export")
def export(
    output: Path | None = typer.Option(None, "--output", "-o", help="write here instead of stdout"),
) -> None:
    """Export every organisation as Bastion CSV (which `bastion orgs import` reads back)."""
    from bastion import orgs

    found, _ = in_session(orgs.list_organisations)
    text = orgs.export_organisations(found)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"exported {len(found)} organisations to {output}", err=True)
