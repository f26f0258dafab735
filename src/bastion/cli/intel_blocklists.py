"""`bastion intel policies …` and `bastion intel devices …`: block lists for enforcement points."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import typer

from bastion.cli.context import actor, cli_session, command_group, in_session
from bastion.cli.context import minute as _when
from bastion.cli.output import JSON_OPTION, Column, fields, print_record, print_rows
from bastion.core.errors import NotFoundError

if TYPE_CHECKING:
    from bastion.intel.blocklists import Device, Policy

policies_app = command_group("Block-list policies: what a device's lists hold.")
devices_app = command_group("Enforcement devices that pull block lists.")

POLICY_COLUMNS: list[Column[Policy]] = [
    *fields("name"),
    ("LISTS", lambda p: ",".join(p.kinds)),
    ("ACTIONS", lambda p: ",".join(p.actions)),
    *fields("min_confidence=MIN CONF", "max_tlp"),
]
DEVICE_COLUMNS: list[Column[Device]] = [
    *fields("name", "policy"),
    ("CREATED", lambda d: _when(d.created_at)),
    ("LAST PULL", lambda d: _when(d.last_pull_at)),
    ("REVOKED", lambda d: _when(d.revoked_at)),
]


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in text.split(",") if part.strip())


@policies_app.command("add")
def policy_add(
    name: str = typer.Argument(help="the policy's name"),
    kinds: str = typer.Option("ip,domain,url", "--kinds", help="lists it publishes: ip,domain,url"),
    actions: str = typer.Option(
        "block", "--actions", help="indicator actions it takes: block,alert"
    ),
    min_confidence: int = typer.Option(
        80, "--min-confidence", help="least confidence (after decay)"
    ),
    max_tlp: str = typer.Option("GREEN", "--max-tlp", help="most restrictive TLP it may send"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a block-list policy."""
    from bastion.intel import blocklists

    with cli_session() as session:
        policy = blocklists.add_policy(
            session, name, kinds=_split(kinds), actions=_split(actions),
            min_confidence=min_confidence, max_tlp=max_tlp, now=datetime.now(UTC),
            actor=actor(),
        )  # fmt: skip
    print_record(policy, lambda p: [f"added policy {p.name}"], as_json=as_json)


@policies_app.command("list")
def policy_list(as_json: bool = JSON_OPTION) -> None:
    """List block-list policies."""
    from bastion.intel import blocklists

    found = in_session(blocklists.list_policies)
    print_rows(found, POLICY_COLUMNS, as_json)


@policies_app.command("show")
def policy_show(
    name: str = typer.Argument(help="the policy"),
    kind: str = typer.Option("ip", "--list", help="which list: ip, domain or url"),
) -> None:
    """Print one list of a policy as a device would get it."""
    from bastion.intel import blocklists

    with cli_session() as session:
        policy = next((p for p in blocklists.list_policies(session) if p.name == name), None)
        if policy is None:
            msg = f"no policy called {name!r}"
            raise NotFoundError(msg)
        rendered = blocklists.render_blocklist(session, policy, kind, now=datetime.now(UTC))
    typer.echo(rendered.text, nl=False)


@devices_app.command("add")
def device_add(
    name: str = typer.Argument(help="the device's name, e.g. fw-ral-01"),
    policy: str = typer.Option(..., "--policy", "-p", help="the policy whose lists it pulls"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Register a device and print its token (shown once; only its hash is kept)."""
    from bastion.intel import blocklists

    device, token = in_session(
        blocklists.add_device, name, policy, actor=actor(), now=datetime.now(UTC)
    )
    print_record(
        {"device": device, "token": token},
        lambda _: [
            f"added device {device.name} (policy {device.policy})",
            f"token (shown once): {token}",
        ],
        as_json=as_json,
    )


@devices_app.command("list")
def device_list(as_json: bool = JSON_OPTION) -> None:
    """List devices."""
    from bastion.intel import blocklists

    found = in_session(blocklists.list_devices)
    print_rows(found, DEVICE_COLUMNS, as_json)


@devices_app.command("revoke")
def device_revoke(name: str = typer.Argument(help="the device")) -> None:
    """Revoke a device's token at once."""
    from bastion.intel import blocklists

    device = in_session(blocklists.revoke_device, name, actor=actor(), now=datetime.now(UTC))
    typer.echo(f"revoked {device.name}")
