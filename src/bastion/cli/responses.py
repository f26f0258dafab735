"""`bastion advisories respond`, `overdue`, `remind`: organisations' responses to alerts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from bastion.cli.context import (
    BY_OPTION,
    actor,
    cli_session,
    command_group,
    in_session,
    minute,
    moment,
    settings,
)
from bastion.cli.output import CSV_OPTION, JSON_OPTION, Column, fields, print_rows

if TYPE_CHECKING:
    from bastion import advisories as adv
    from bastion.advisories.responses import Response

respond_app = command_group("Respond to an alert for one or more organisations.")
ORGS_OPTION = typer.Option(..., "--org", "-o", help="organisation code; repeat for several")
REF_ARGUMENT = typer.Argument(help="CC-NNNN")
NEXT_UPDATE_OPTION = typer.Option(None, "--next-update", help="date of the next update")
STATUSES = "planned, in_progress or done"


def policy() -> adv.Policy:
    """Return the response deadlines and reminders of the configured data directory."""
    from bastion import advisories as adv

    return adv.load_policy(settings().data_dir)


RESPONSE_COLUMNS: list[Column[Response]] = [
    *fields("alert", "organisation=ORG", "status"),
    ("ACK DUE", lambda r: minute(r.ack_due)),
    ("ACKNOWLEDGED", lambda r: minute(r.acknowledged_at)),
    *fields("applicability"),
    ("NEXT UPDATE", lambda r: minute(r.next_update_due)),
    ("REMEDIATION DUE", lambda r: minute(r.remediation_due)),
]


@respond_app.command("ack")
def ack(ref: str = REF_ARGUMENT, orgs: list[str] = ORGS_OPTION, by: str | None = BY_OPTION,
        as_json: bool = JSON_OPTION) -> None:  # fmt: skip
    """Acknowledge an alert for the organisations."""
    from bastion import advisories as adv

    found = in_session(adv.acknowledge, ref, orgs, actor=actor(by))
    print_rows(found, RESPONSE_COLUMNS, as_json)


@respond_app.command("applicability")
def applicability(
    ref: str = REF_ARGUMENT,
    value: str = typer.Argument(help="applicable, not_applicable or under_investigation"),
    orgs: list[str] = ORGS_OPTION,
    next_update: str | None = NEXT_UPDATE_OPTION,
    by: str | None = BY_OPTION, as_json: bool = JSON_OPTION,
) -> None:  # fmt: skip
    """Say whether the alert applies to the organisations."""
    from bastion import advisories as adv

    found = in_session(
        adv.set_applicability,
        ref,
        orgs,
        value,
        actor=actor(by),
        next_update=moment(next_update),
        policy=policy(),
    )
    print_rows(found, RESPONSE_COLUMNS, as_json)


@respond_app.command("action")
def action(
    ref: str = REF_ARGUMENT,
    description: str = typer.Argument(help="what will be done"),
    orgs: list[str] = ORGS_OPTION,
    status: str = typer.Option("planned", "--status", help=STATUSES),
    next_update: str | None = NEXT_UPDATE_OPTION,
    by: str | None = BY_OPTION,
) -> None:
    """Record a remediation action for the organisations."""
    from bastion import advisories as adv

    with cli_session() as session:
        ids = adv.add_action(session, ref, orgs, description, actor=actor(by), next_update=moment(next_update),
                             status=status)  # fmt: skip
    typer.echo(f"actions {', '.join(str(i) for i in ids)} recorded")


@respond_app.command("update")
def action_update(
    action_id: int = typer.Argument(help="the action's id"),
    note: str = typer.Argument(help="progress note"),
    status: str = typer.Option(..., "--status", help=STATUSES),
    next_update: str | None = NEXT_UPDATE_OPTION,
    by: str | None = BY_OPTION,
) -> None:
    """Add a progress update to a remediation action."""
    from bastion import advisories as adv

    in_session(
        adv.update_action,
        action_id,
        note,
        status=status,
        actor=actor(by),
        next_update=moment(next_update),
    )
    typer.echo(f"action {action_id}: {status}")


@respond_app.command("close")
def close_(
    ref: str = REF_ARGUMENT, orgs: list[str] = ORGS_OPTION,
    not_remediated: bool = typer.Option(False, "--not-remediated", help="close without a remediation"),
    by: str | None = BY_OPTION, as_json: bool = JSON_OPTION,
) -> None:  # fmt: skip
    """Close the organisations' responses (remediated unless --not-remediated)."""
    from bastion import advisories as adv

    found = in_session(adv.close, ref, orgs, actor=actor(by), remediated=not not_remediated)
    print_rows(found, RESPONSE_COLUMNS, as_json)


@respond_app.command("list")
def responses_list(
    ref: str | None = typer.Argument(None, help="CC-NNNN (default: every alert)"),
    org: str | None = typer.Option(None, "--org", "-o", help="only this organisation's"),
    as_json: bool = JSON_OPTION,
    as_csv: bool = CSV_OPTION,
) -> None:
    """List responses, with their actions in --json."""
    from bastion import advisories as adv

    found = in_session(adv.list_responses, ref, org)
    print_rows(found, RESPONSE_COLUMNS, as_json, as_csv)


OVERDUE_COLUMNS: list[Column[Any]] = [
    *fields("alert", "organisation=ORG", "what=OVERDUE"),
    ("DUE", lambda o: minute(o.due)),
]


def overdue(as_json: bool = JSON_OPTION) -> None:
    """List responses that missed a deadline (acknowledgement, remediation, next update)."""
    from bastion import advisories as adv

    found = in_session(adv.overdue)
    print_rows(found, OVERDUE_COLUMNS, as_json=as_json)


def remind() -> None:
    """E-mail a reminder to every organisation with an overdue response (once per period)."""
    from bastion import advisories as adv

    found = in_session(
        adv.send_reminders, policy=policy(), smtp=adv.SmtpConfig.from_env(), actor=actor()
    )
    typer.echo(f"{len({(o.alert, o.organisation) for o in found})} reminders sent")
