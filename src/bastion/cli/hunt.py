"""`bastion hunt` and `bastion archive`: search and prune the Parquet event archive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import typer

from bastion.boundary.archive import prune as run_prune
from bastion.boundary.hunting import hunt as run_hunt
from bastion.cli.context import JSON_OPTION, print_json, print_table, settings, store
from bastion.core.timeutil import utcnow

archive_app = typer.Typer(help="Manage the Parquet event archive.", no_args_is_help=True)

_PLAIN = (pl.String, pl.Boolean, pl.Null, pl.List, pl.Struct, pl.Array)


def _printable(frame: pl.DataFrame) -> pl.DataFrame:
    """Make every column JSON-friendly: timestamps as ISO strings, decimals as floats."""
    columns: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            column = column.dt.to_string("iso:strict")
        elif isinstance(dtype, pl.Decimal):
            column = column.cast(pl.Float64)
        elif not (dtype.is_numeric() or isinstance(dtype, _PLAIN)):
            column = column.cast(pl.String)
        columns.append(column)
    return frame.select(columns)


def hunt(
    sql: str = typer.Argument(
        help="one SELECT over the `events` view; columns are ECS names in double quotes "
        '("source.ip"), plus day and org'
    ),
    limit: int = typer.Option(
        1000, "--limit", min=0, help="at most this many rows (default 1000; 0 for all)"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Search the event archive with SQL (DuckDB), read-only.

    Example: bastion hunt 'SELECT org, count(*) FROM events GROUP BY org'
    """
    frame = _printable(run_hunt(settings().archive_dir, sql, limit=limit or None))
    rows: list[dict[str, Any]] = frame.to_dicts()
    if as_json:
        print_json(rows)
        return
    print_table(frame.columns, frame.rows())
    capped = " (limit reached; raise --limit for more)" if limit and frame.height == limit else ""
    typer.echo(f"{frame.height} rows{capped}", err=True)


@archive_app.command("prune")
def prune(
    older_than: int = typer.Option(
        ..., "--older-than", min=0, help="delete days whose events are all older than this"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete archived days older than a number of days (undated events are kept)."""
    root = settings().archive_dir
    removed = run_prune(root, older_than, utcnow())
    if as_json:
        print_json({"archive": root, "older_than_days": older_than, "files_removed": removed})
        return
    typer.echo(f"removed {removed} files older than {older_than} days from {root}")


@archive_app.command("compact")
def compact(
    every_day: bool = typer.Option(
        False, "--all", help="compact today too, not only the days that are over"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Move ingested batches of the days that are over into their organisations' partitions.

    Ingest does this at its end; run it from a timer (say hourly) for listeners and workers.
    """
    from bastion.boundary.checkpoints import batch_done
    from bastion.boundary.compaction import compact as run_compact

    root = settings().archive_dir
    with store().session() as session:
        closed_before = None
        if not every_day:
            closed_before = datetime.now(UTC) - timedelta(
                hours=settings().archive_compact_after_hours
            )
        stats = run_compact(
            root,
            committed=lambda batch: batch_done(session, batch),
            closed_before=closed_before,
        )
    if as_json:
        print_json(stats)
        return
    typer.echo(
        f"compacted {stats.staged_files} staged files ({stats.events} events) into "
        f"{stats.files_written} files over {stats.days} days"
    )
