"""The ``bastion`` command: one sub-command group per context."""

from __future__ import annotations

from typing import Any

import click
import typer
from typer.core import TyperGroup

from bastion import __version__
from bastion.cli import orgs as orgs_cli
from bastion.cli.context import settings
from bastion.core.errors import BastionError
from bastion.store import Store, upgrade


class BastionGroup(TyperGroup):
    """The root command: a BastionError becomes one line on stderr and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BastionError as exc:
            click.echo(f"bastion: error: {exc}", err=True)
            ctx.exit(exc.exit_code)


app = typer.Typer(
    name="bastion",
    cls=BastionGroup,
    help="Bastion: cyber defence for a federation of health and care organisations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(orgs_cli.app, name="orgs")


@app.command()
def version() -> None:
    """Print Bastion's version."""
    typer.echo(__version__)


@app.command()
def init() -> None:
    """Create the data directory and migrate the database to the newest schema."""
    config = settings()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    config.archive_dir.mkdir(parents=True, exist_ok=True)
    store = Store.from_url(config.db_url)
    upgrade(store.engine)
    store.dispose()
    typer.echo(f"initialised {config.data_dir} (database {store.engine.url.render_as_string()})")


def main() -> None:
    """Run the ``bastion`` command."""
    app()
