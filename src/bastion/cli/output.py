"""How every CLI command prints: rows as a table, JSON or CSV; one record as text or JSON.

A list command describes its table once, as columns (a header and how to get the
cell from an item), and calls `print_rows`; a show command gives `print_record` a
function that renders the record as lines of text. ``--json`` prints the items
themselves (dataclasses, enums, datetimes and paths made plain); ``--csv`` prints
the table's columns for every row, for a spreadsheet or a pipe.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar

import typer

T = TypeVar("T")
Column = tuple[str, Callable[[T], object]]
"""A table column: its header and how to get its cell from an item."""

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON.")
CSV_OPTION = typer.Option(False, "--csv", help="Print CSV: the table's columns, every row.")


def fields(*specs: str) -> list[Column[Any]]:
    """Return columns that show an item's attributes (or a mapping's keys) as they are.

    ``fields("source", "alerts_created=NEW ALERTS")`` heads the first column SOURCE (the
    name in capitals, underscores as spaces) and the second NEW ALERTS. A dotted name
    reads an attribute's attribute: ``fields("target.host=HOST")``.
    """

    def column(spec: str) -> Column[Any]:
        name, _, header = spec.partition("=")
        get = attrgetter(name)

        def cell(item: Any) -> object:
            return item[name] if isinstance(item, Mapping) else get(item)

        return (header or name.upper().replace("_", " "), cell)

    return [column(spec) for spec in specs]


_ITEMS: Any = object()  # print_rows' default JSON: the items themselves


def plain(value: Any) -> Any:
    """Return ``value`` as JSON-ready data: dataclasses, enums, datetimes and paths made plain."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def print_json(value: Any) -> None:
    """Print ``value`` (dataclasses, enums, datetimes included) as indented JSON."""
    typer.echo(json.dumps(plain(value), indent=2, ensure_ascii=False))


def _text(value: object) -> str:
    return "" if value is None else str(value)


def table_lines(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """Return rows as the lines of an aligned plain-text table, headers first."""
    text_rows = [[_text(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in text_rows:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=True)]
    return [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
        for row in [list(headers), *text_rows]
    ]


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print rows as an aligned plain-text table."""
    for line in table_lines(headers, rows):
        typer.echo(line)


def print_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print rows as CSV with a header line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows([_text(v) for v in row] for row in rows)
    typer.echo(buffer.getvalue(), nl=False)


def print_rows(
    items: Sequence[T],
    columns: Sequence[Column[T]],
    as_json: bool = False,
    as_csv: bool = False,
    *,
    data: Any = _ITEMS,
    footer: str | None = None,
    total: int | None = None,
    noun: str = "rows",
) -> None:
    """Print items as a table of ``columns`` (then ``footer`` on stderr), as JSON or as CSV.

    JSON holds ``data`` when given (a command's fuller answer), else the items. Given
    the ``total`` a page was cut from, the footer says "<shown> of <total> <noun>".
    """
    if total is not None:
        footer = f"{len(items)} of {total} {noun}"
    if as_json:
        print_json(items if data is _ITEMS else data)
        return
    headers = [header for header, _ in columns]
    rows = [[cell(item) for _, cell in columns] for item in items]
    if as_csv:
        print_csv(headers, rows)
        return
    print_table(headers, rows)
    if footer is not None:
        typer.echo(footer, err=True)


def print_record(
    value: T,
    render: Callable[[T], Iterable[str]],
    *,
    as_json: bool = False,
    data: Any = _ITEMS,
    footer: str | None = None,
) -> None:
    """Print one record as the lines ``render`` makes of it (then ``footer`` on stderr), or as JSON.

    JSON holds ``data`` when given (a command's fuller answer), else the record.
    """
    if as_json:
        print_json(value if data is _ITEMS else data)
        return
    for line in render(value):
        typer.echo(line)
    if footer is not None:
        typer.echo(footer, err=True)
