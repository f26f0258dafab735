"""`bastion hunt` and `bastion archive`: search and prune the Parquet event archive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

import typer

from bastion.cli.context import cli_session, command_group, settings
from bastion.cli.output import JSON_OPTION, print_record, print_rows
from bastion.core.timeutil import utcnow

archive_app = command_group("Manage the Parquet event archive.")


def hunt(
    sql: str | None = typer.Argument(
        None,
        help="one SELECT over the `events` view; columns are ECS names in double quotes "
        '("source.ip"), plus day and org',
    ),
    limit: int = typer.Option(
        1000, "--limit", min=0, help="at most this many rows (default 1000; 0 for all)"
    ),
    columns: bool = typer.Option(
        False, "--columns", help="list the columns of `events` with their types instead"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Search the event archive with SQL (DuckDB), read-only.

    Example: bastion hunt 'SELECT org, count(*) FROM events GROUP BY org'
    """
    from bastion.boundary.hunting import archive_columns
    from bastion.boundary.hunting import hunt as run_hunt
    from bastion.boundary.sandbox import printable
    from bastion.core.errors import InputError

    if columns:
        found = [{"name": n, "type": t} for n, t in archive_columns()]
        print_rows(
            found, [("COLUMN", itemgetter("name")), ("TYPE", itemgetter("type"))], as_json=as_json
        )
        return
    if sql is None:
        msg = "give one SELECT over `events`, or --columns to list its columns"
        raise InputError(msg)
    try:
        frame = printable(run_hunt(settings().archive_dir, sql, limit=limit or None))
    except InputError as exc:
        msg = f"{exc} (`bastion hunt --columns` lists the columns)"
        raise InputError(msg) from exc
    rows: list[dict[str, Any]] = frame.to_dicts()
    capped = " (limit reached; raise --limit for more)" if limit and frame.height == limit else ""
    print_rows(
        rows,
        [(name, itemgetter(name)) for name in frame.columns],
        as_json=as_json,
        footer=f"{frame.height} rows{capped}",
    )


@archive_app.command("prune")
def prune(
    older_than: int = typer.Option(
        ..., "--older-than", min=0, help="delete days whose events are all older than this"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete archived days older than a number of days (undated events are kept)."""
    from bastion.boundary.archive import prune as run_prune

    root = settings().archive_dir
    removed = run_prune(root, older_than, utcnow())
    print_record(
        {"archive": root, "older_than_days": older_than, "files_removed": removed},
        lambda _: [f"removed {removed} files older than {older_than} days from {root}"],
        as_json=as_json,
    )


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
    with cli_session() as session:
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
    print_record(
        stats,
        lambda s: [
            f"compacted {s.staged_files} staged files ({s.events} events) into "
            f"{s.files_written} files over {s.days} days"
        ],
        as_json=as_json,
    )
