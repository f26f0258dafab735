"""What every CLI command shares: settings, the store and its sessions, who acts, dates.

Nothing heavy is imported here at start-up: the store (SQLAlchemy) and the settings
(pydantic) load on the first command that asks for them, so `bastion --help` stays quick.
"""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import typer

from bastion.core.errors import InputError, StoreError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bastion.audit import Actor
    from bastion.core.scope import Scope
    from bastion.core.settings import Settings
    from bastion.store import Store

__all__ = [
    "BY_OPTION",
    "actor",
    "cli_session",
    "command_group",
    "day",
    "everything",
    "in_session",
    "limit_option",
    "minute",
    "moment",
    "one_line",
    "report_error",
    "second",
    "settings",
    "store",
]

VERBOSE_FLAG = "--verbose"
BY_OPTION = typer.Option(None, "--by", help="who is acting (default: the login name)")


def limit_option(default: int) -> Any:
    """Return a list command's ``--limit`` option: at most this many rows, ``default`` unless given."""
    return typer.Option(default, "--limit", min=1, help=f"at most this many (default {default})")


def command_group(help: str) -> typer.Typer:
    """Return a group of sub-commands that shows its help when called bare.

    Help is plain text: rendering it with rich would load rich on every `--help`.
    """
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)


@cache
def settings() -> Settings:
    """Return the settings of this invocation (read once)."""
    from bastion.core.settings import load_settings

    return load_settings()


@cache
def store() -> Store:
    """Return the migrated store; raise StoreError if `bastion init` has not run."""
    from bastion.store import Store, is_migrated

    opened = Store.from_url(settings().db_url)
    if not is_migrated(opened.engine):
        msg = f"database {settings().db_url} is not initialised: run `bastion init` first"
        raise StoreError(msg)
    return opened


@contextmanager
def cli_session() -> Iterator[Session]:
    """Open a session on the migrated store: committed when the block ends, rolled back on error."""
    with store().session() as session:
        yield session


P = ParamSpec("P")
R = TypeVar("R")


def in_session(call: Callable[Concatenate[Session, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Return ``call(session, *args, **kwargs)`` run in a session of the store, then committed."""
    with cli_session() as session:
        return call(session, *args, **kwargs)


def actor(by: str | None = None) -> Actor:
    """Return the command line's actor: ``cli:<by>`` if given, else ``cli:<login name>``."""
    from bastion.audit import Actor

    return Actor.cli(by)


def everything() -> Scope:
    """Return the command line's scope: every organisation (it acts nationally)."""
    from bastion.core.scope import Scope

    return Scope.everything()


def minute(value: datetime | None) -> str:
    """Return a time as ``YYYY-MM-DD hh:mm`` for a table ("" for none)."""
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def day(value: datetime | None) -> str:
    """Return a time's date as ``YYYY-MM-DD`` for a table ("" for none)."""
    return "" if value is None else value.strftime("%Y-%m-%d")


def second(value: datetime | None) -> str:
    """Return a time as ``YYYY-MM-DD hh:mm:ss`` for a table ("" for none)."""
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def moment(value: str | None) -> datetime | None:
    """Read a date option (``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM``, UTC unless it says); None stays."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        msg = f"invalid date {value!r}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        raise InputError(msg) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def one_line(text: str) -> str:
    """Return a message on one line: its lines joined, blank lines and DuckDB's carets dropped."""
    lines = (re.sub(r"^\^\s*", "", line.strip()) for line in text.splitlines())
    return " ".join(line for line in lines if line) or "(no message)"


def verbose_asked(args: Sequence[str]) -> bool:
    """Say whether ``--verbose`` comes before the command's name (a root option)."""
    for arg in args:
        if not arg.startswith("-"):
            return False
        if arg == VERBOSE_FLAG:
            return True
    return False


def report_error(exc: BaseException, *, verbose: bool) -> int:
    """Print what went wrong on one stderr line (the whole story first when verbose); return
    the exit code.

    A ``BastionError`` says what was wrong; a usage error (an unknown option, a bad
    value) names the command and its ``--help``; anything else is a bug, named by its
    type, with the traceback kept for ``--verbose``.
    """
    from typer._click import exceptions as click  # the click that Typer vendors

    from bastion.core.errors import BastionError

    if isinstance(exc, click.NoArgsIsHelpError):  # a bare group: its help is the answer
        exc.show()
        return exc.exit_code
    if isinstance(exc, click.UsageError):
        where = exc.ctx.command_path if exc.ctx is not None else "bastion"
        command = where.partition(" ")[2]
        message = (
            f"{command + ': ' if command else ''}{exc.format_message()} (see `{where} --help`)"
        )
        code = exc.exit_code
    elif isinstance(exc, click.ClickException):
        message, code = exc.format_message(), exc.exit_code
    elif isinstance(exc, typer.Abort):
        message, code = "interrupted", 130
    elif isinstance(exc, BastionError):
        message, code = str(exc), exc.exit_code
    else:
        hint = "" if verbose else f" (run with {VERBOSE_FLAG} for the traceback)"
        message, code = f"unexpected {type(exc).__name__}: {exc}{hint}", 1
    if verbose:
        traceback.print_exception(exc, file=sys.stderr)
    typer.echo(f"bastion: error: {one_line(message)}", err=True)
    return code
