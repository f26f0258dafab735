"""What every CLI command shares: settings, the store, and how to print results."""

from __future__ import annotations

import dataclasses
import getpass
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

import typer

from bastion.core.errors import InputError, StoreError
from bastion.core.settings import Settings, load_settings
from bastion.store import Store, is_migrated

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON.")
BY_OPTION = typer.Option(None, "--by", help="who is acting (default: the login name)")


@cache
def settings() -> Settings:
    """Return the settings of this invocation (read once)."""
    return load_settings()


@cache
def store() -> Store:
    """Return the migrated store; raise StoreError if `bastion init` has not run."""
    opened = Store.from_url(settings().db_url)
    if not is_migrated(opened.engine):
        msg = f"database {settings().db_url} is not initialised: run `bastion init` first"
        raise StoreError(msg)
    return opened


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def print_json(value: Any) -> None:
    """Print ``value`` (dataclasses, enums, datetimes included) as indented JSON."""
    typer.echo(json.dumps(_plain(value), indent=2, ensure_ascii=False))


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print rows as an aligned plain-text table."""
    text_rows = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in text_rows:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=True)]
    typer.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in text_rows:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def actor(by: str | None) -> str:
    """Return who is acting: ``by`` if given, else the login name (``cli`` without one)."""
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def minute(value: datetime | None) -> str:
    """Return a time as ``YYYY-MM-DD hh:mm`` for a table ("" for none)."""
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


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
