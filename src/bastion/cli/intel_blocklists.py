"""`bastion intel policies …` and `bastion intel devices …`: block lists for enforcement points."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from bastion.audit import Actor
from bastion.cli.context import JSON_OPTION, print_json, print_table, store
from bastion.core.errors import NotFoundError
from bastion.intel import blocklists

policies_app = typer.Typer(
    help="Block-list policies: what a device's lists hold.", no_args_is_help=True
)
devices_app = typer.Typer(help="Enforcement devices that pull block lists.", no_args_is_help=True)


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


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
    with store().session() as session:
        policy = blocklists.add_policy(
            session, name, kinds=_split(kinds), actions=_split(actions),
            min_confidence=min_confidence, max_tlp=max_tlp, now=datetime.now(UTC),
            actor=Actor.cli(),
        )  # fmt: skip
    if as_json:
        print_json(policy)
        return
    typer.echo(f"added policy {policy.name}")


@policies_app.command("list")
def policy_list(as_json: bool = JSON_OPTION) -> None:
    """List block-list policies."""
    with store().session() as session:
        found = blocklists.list_policies(session)
    if as_json:
        print_json(found)
        return
    print_table(
        ["NAME", "LISTS", "ACTIONS", "MIN CONF", "MAX TLP"],
        [(p.name, ",".join(p.kinds), ",".join(p.actions), p.min_confidence, p.max_tlp.value)
         for p in found],
    )  # fmt: skip


@policies_app.command("show")
def policy_show(
    name: str = typer.Argument(help="the policy"),
    kind: str = typer.Option("ip", "--list", help="which list: ip, domain or url"),
) -> None:
    """Print one list of a policy as a device would get it."""
    with store().session() as session:
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
    with store().session() as session:
        device, token = blocklists.add_device(
            session, name, policy, actor=Actor.cli(), now=datetime.now(UTC)
        )
    if as_json:
        print_json({"device": device, "token": token})
        return
    typer.echo(f"added device {device.name} (policy {device.policy})")
    typer.echo(f"token (shown once): {token}")


@devices_app.command("list")
def device_list(as_json: bool = JSON_OPTION) -> None:
    """List devices."""
    with store().session() as session:
        found = blocklists.list_devices(session)
    if as_json:
        print_json(found)
        return
    print_table(
        ["NAME", "POLICY", "CREATED", "LAST PULL", "REVOKED"],
        [(d.name, d.policy, _when(d.created_at), _when(d.last_pull_at), _when(d.revoked_at))
         for d in found],
    )  # fmt: skip


@devices_app.command("revoke")
def device_revoke(name: str = typer.Argument(help="the device")) -> None:
    """Revoke a device's token at once."""
    with store().session() as session:
        device = blocklists.revoke_device(session, name, actor=Actor.cli(), now=datetime.now(UTC))
    typer.echo(f"revoked {device.name}")
