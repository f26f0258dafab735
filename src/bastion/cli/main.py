"""The ``bastion`` command: one sub-command group per context."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from bastion import __version__
from bastion.cli import advisories as advisories_cli
from bastion.cli import alerts as alerts_cli
from bastion.cli import assure as assure_cli
from bastion.cli import audit as audit_cli
from bastion.cli import behaviour as behaviour_cli
from bastion.cli import boundary as boundary_cli
from bastion.cli import cases as cases_cli
from bastion.cli import demo as demo_cli
from bastion.cli import hunt as hunt_cli
from bastion.cli import intel as intel_cli
from bastion.cli import inventory as inventory_cli
from bastion.cli import orgs as orgs_cli
from bastion.cli import passwords as passwords_cli
from bastion.cli import rules as rules_cli
from bastion.cli import scan as scan_cli
from bastion.cli import uptime as uptime_cli
from bastion.cli import users as users_cli
from bastion.cli import web as web_cli
from bastion.cli.context import VERBOSE_FLAG, report_error, settings, verbose_asked
from bastion.cli.output import JSON_OPTION, print_record


class BastionGroup(TyperGroup):
    """The root command: every error becomes one line on stderr and a non-zero exit.

    Usage errors (an unknown option or command, a bad value), ``BastionError`` and any
    unexpected exception all end here; ``bastion --verbose …`` prints the whole error
    and its traceback first.
    """

    def main(  # type: ignore[override]  # click's overloads; Typer calls it with keywords
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        args = list(sys.argv[1:] if args is None else args)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except Exception as exc:  # one line for every error, whatever it is
            code = report_error(exc, verbose=verbose_asked(args))
            if not standalone_mode:
                raise
            sys.exit(code)
        if standalone_mode:
            # Without standalone mode, click returns an ``Exit``'s code and a command's value.
            sys.exit(result if isinstance(result, int) else 0)
        return result


app = typer.Typer(
    name="bastion",
    cls=BastionGroup,
    help="Bastion: cyber defence for a federation of health and care organisations.",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help and errors: rich would load on every call
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(
    verbose: bool = typer.Option(
        False, VERBOSE_FLAG, help="on an error, print all of it and its traceback, not one line"
    ),
) -> None:
    """Bastion: cyber defence for a federation of health and care organisations."""
    # ``BastionGroup.main`` reads the flag from the arguments: it must work for errors
    # raised before this callback runs (an unknown command).
    del verbose


app.add_typer(orgs_cli.app, name="orgs")
app.add_typer(boundary_cli.app, name="boundary")
app.add_typer(intel_cli.app, name="intel")
app.add_typer(alerts_cli.app, name="alerts")
app.add_typer(cases_cli.app, name="cases")
app.add_typer(rules_cli.app, name="rules")
app.add_typer(demo_cli.app, name="demo")
app.add_typer(advisories_cli.app, name="advisories")
app.add_typer(inventory_cli.inventory_app, name="inventory")
app.add_typer(inventory_cli.exposures_app, name="exposures")
app.add_typer(hunt_cli.archive_app, name="archive")
app.add_typer(users_cli.users_app, name="users")
app.add_typer(users_cli.tokens_app, name="tokens")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(passwords_cli.app, name="passwords")
app.add_typer(uptime_cli.app, name="uptime")
app.add_typer(assure_cli.app, name="assure")
app.add_typer(scan_cli.app, name="scan")
app.add_typer(behaviour_cli.app, name="behaviour")
app.command("hunt")(hunt_cli.hunt)
app.command("serve")(web_cli.serve)


@app.command()
def version(as_json: bool = JSON_OPTION) -> None:
    """Print Bastion's version."""
    print_record(__version__, lambda v: [v], as_json=as_json, data={"version": __version__})


@app.command()
def init(
    load_demo: bool = typer.Option(
        False,
        "--demo",
        help="then load the demo federation and ingest a labelled day of its traffic (once)",
    ),
) -> None:
    """Create the data directory and migrate the database to the newest schema."""
    from bastion.store import Store, upgrade

    config = settings()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    config.archive_dir.mkdir(parents=True, exist_ok=True)
    store = Store.from_url(config.db_url)
    upgrade(store.engine)
    if load_demo:
        for line in demo_cli.load_demo_once(store, config):
            typer.echo(line)
        for line in users_cli.demo_accounts_once(store, config.data_dir):
            typer.echo(line)
        for line in advisories_cli.demo_advisory_once(store, users_cli.DEMO_LEAD, config.data_dir):
            typer.echo(line)
        for line in demo_cli.demo_uptime_once(store, config):
            typer.echo(line)
    store.dispose()
    typer.echo(f"initialised {config.data_dir} (database {store.engine.url.render_as_string()})")


def main() -> None:
    """Run the ``bastion`` command."""
    app()
