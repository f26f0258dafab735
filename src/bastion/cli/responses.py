"""`bastion advisories respond`, `overdue`, `remind`: organisations' responses to alerts."""

from __future__ import annotations

from typing import Any

import typer

from bastion import advisories as adv
from bastion.audit import Actor
from bastion.cli.context import (
    BY_OPTION,
    JSON_OPTION,
    actor,
    minute,
    moment,
    print_json,
    print_table,
    settings,
    store,
)

respond_app = typer.Typer(
    help="Respond to an alert for one or more organisations.", no_args_is_help=True
)
ORGS_OPTION = typer.Option(..., "--org", "-o", help="organisation code; repeat for several")


def policy() -> adv.Policy:
    """Return the response deadlines and reminders of the configured data directory."""
    return adv.load_policy(settings().data_dir)


def _print_responses(found: list[Any], as_json: bool) -> None:
    if as_json:
        print_json(found)
        return
    print_table(
        ["ALERT", "ORG", "STATUS", "ACK DUE", "ACKNOWLEDGED", "APPLICABILITY", "NEXT UPDATE", "REMEDIATION DUE"],
        [
            (r.alert, r.organisation, r.status, minute(r.ack_due), minute(r.acknowledged_at), r.applicability or "",
             minute(r.next_update_due), minute(r.remediation_due))
            for r in found
        ],
    )  # fmt: skip


@respond_app.command("ack")
def ack(ref: str = typer.Argument(help="CC-NNNN"), orgs: list[str] = ORGS_OPTION, by: str | None = BY_OPTION,
        as_json: bool = JSON_OPTION) -> None:  # fmt: skip
    """Acknowledge an alert for the organisations."""
    with store().session() as session:
        found = adv.acknowledge(session, ref, orgs, actor=Actor.cli(actor(by)))
    _print_responses(found, as_json)


@respond_app.command("applicability")
def applicability(
    ref: str = typer.Argument(help="CC-NNNN"),
    value: str = typer.Argument(help="applicable, not_applicable or under_investigation"),
    orgs: list[str] = ORGS_OPTION,
    next_update: str | None = typer.Option(None, "--next-update", help="date of the next update"),
    by: str | None = BY_OPTION, as_json: bool = JSON_OPTION,
) -> None:  # fmt: skip
    """Say whether the alert applies to the organisations."""
    with store().session() as session:
        found = adv.set_applicability(
            session,
            ref,
            orgs,
            value,
            actor=Actor.cli(actor(by)),
            next_update=moment(next_update),
            policy=policy(),
        )
    _print_responses(found, as_json)


@respond_app.command("action")
def action(
    ref: str = typer.Argument(help="CC-NNNN"),
    description: str = typer.Argument(help="what will be done"),
    orgs: list[str] = ORGS_OPTION,
    status: str = typer.Option("planned", "--status", help="planned, in_progress or done"),
    next_update: str | None = typer.Option(None, "--next-update", help="date of the next update"),
    by: str | None = BY_OPTION,
) -> None:
    """Record a remediation action for the organisations."""
    with store().session() as session:
        ids = adv.add_action(session, ref, orgs, description, actor=Actor.cli(actor(by)), next_update=moment(next_update),
                             status=status)  # fmt: skip
    typer.echo(f"actions {', '.join(str(i) for i in ids)} recorded")


@respond_app.command("update")
def action_update(
    action_id: int = typer.Argument(help="the action's id"),
    note: str = typer.Argument(help="progress note"),
    status: str = typer.Option(..., "--status", help="planned, in_progress or done"),
    next_update: str | None = typer.Option(None, "--next-update", help="date of the next update"),
    by: str | None = BY_OPTION,
) -> None:
    """Add a progress update to a remediation action."""
    with store().session() as session:
        adv.update_action(
            session,
            action_id,
            note,
            status=status,
            actor=Actor.cli(actor(by)),
            next_update=moment(next_update),
        )
    typer.echo(f"action {action_id}: {status}")


@respond_app.command("close")
def close_(
    ref: str = typer.Argument(help="CC-NNNN"), orgs: list[str] = ORGS_OPTION,
    not_remediated: bool = typer.Option(False, "--not-remediated", help="close without a remediation"),
    by: str | None = BY_OPTION, as_json: bool = JSON_OPTION,
) -> None:  # fmt: skip
    """Close the organisations' responses (remediated unless --not-remediated)."""
    with store().session() as session:
        found = adv.close(
            session, ref, orgs, actor=Actor.cli(actor(by)), remediated=not not_remediated
        )
    _print_responses(found, as_json)


@respond_app.command("list")
def responses_list(
    ref: str | None = typer.Argument(None, help="CC-NNNN (default: every alert)"),
    org: str | None = typer.Option(None, "--org", "-o"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List responses, with their actions in --json."""
    with store().session() as session:
        found = adv.list_responses(session, ref, org)
    _print_responses(found, as_json)


def overdue(as_json: bool = JSON_OPTION) -> None:
    """List responses that missed a deadline (acknowledgement, remediation, next update)."""
    with store().session() as session:
        found = adv.overdue(session)
    if as_json:
        print_json(found)
        return
    print_table(
        ["ALERT", "ORG", "OVERDUE", "DUE"],
        [(o.alert, o.organisation, o.what, minute(o.due)) for o in found],
    )


def remind() -> None:
    """E-mail a reminder to every organisation with an overdue response (once per period)."""
    with store().session() as session:
        found = adv.send_reminders(
            session, policy=policy(), smtp=adv.SmtpConfig.from_env(), actor=Actor.cli()
        )
    typer.echo(f"{len({(o.alert, o.organisation) for o in found})} reminders sent")
