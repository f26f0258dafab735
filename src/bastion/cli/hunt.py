"""`bastion hunt` and `bastion archive`: search, compact, retain and hold the Parquet event archive."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any

import typer

from bastion.cli import context
from bastion.cli.context import command_group, in_session, settings
from bastion.cli.output import JSON_OPTION, Column, fields, print_record, print_rows

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


def _maintenance_lines(done: Any) -> list[str]:
    if not done.held:
        return ["another process holds the archive maintenance lease: nothing done"]
    lines = [f"held the maintenance lease (waited {done.waited_s:.1f}s)"]
    if done.compaction is not None:
        s = done.compaction
        lines.append(
            f"compacted {s.staged_files} staged files ({s.events} events) into "
            f"{s.files_written} files over {s.days} days"
        )
    if done.retention is not None:
        r = done.retention
        lines.append(
            f"removed {r.files_removed} files of {len(r.days_removed)} days past "
            f"{r.keep_days} days; legal holds kept {r.partitions_kept} partitions"
        )
    return lines


def _flat(done: Any) -> dict[str, Any]:
    """The lease's outcome and what was done, in one record: ``held``, ``waited_s``, the counts."""
    found = done.compaction or done.retention
    return {"held": done.held, "waited_s": round(done.waited_s, 3)} | (vars(found) if found else {})


@archive_app.command("prune")
def prune(
    older_than: int = typer.Option(
        ..., "--older-than", min=0, help="delete days whose events are all older than this"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete archived days older than a number of days (undated events and legal holds kept), audited."""
    from bastion.audit import Actor
    from bastion.boundary.maintenance import retain_archive

    root = settings().archive_dir
    done = retain_archive(context.store(), root, keep_days=older_than, actor=Actor.cli())
    removed = done.retention.files_removed if done.retention else 0
    print_record(
        {"archive": root, "older_than_days": older_than, "files_removed": removed},
        lambda _: _maintenance_lines(done),
        as_json=as_json,
    )


@archive_app.command("retain")
def retain(as_json: bool = JSON_OPTION) -> None:
    """Apply the archive_retention_days setting: remove whole days past it (legal holds kept), audited."""
    from bastion.audit import Actor
    from bastion.boundary.maintenance import retain_archive
    from bastion.core.errors import ConfigError

    days = settings().archive_retention_days
    if days is None:
        msg = "archive_retention_days is not set: every day is kept (set BASTION_ARCHIVE_RETENTION_DAYS)"
        raise ConfigError(msg)
    done = retain_archive(
        context.store(), settings().archive_dir, keep_days=days, actor=Actor.cli()
    )
    print_record(_flat(done), lambda _: _maintenance_lines(done), as_json=as_json)


@archive_app.command("compact")
def compact(
    every_day: bool = typer.Option(
        False, "--all", help="compact today too, not only the days that are over"
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Move ingested batches of the days that are over into their organisations' partitions.

    Ingest does this at its end; run it from a timer (say hourly) for listeners and workers.
    One process at a time compacts (a lease in the database): a second one waits its turn.
    """
    from bastion.boundary.maintenance import compact_archive

    closed_before = None
    if not every_day:
        closed_before = datetime.now(UTC) - timedelta(hours=settings().archive_compact_after_hours)
    done = compact_archive(context.store(), settings().archive_dir, closed_before=closed_before)
    print_record(_flat(done), lambda _: _maintenance_lines(done), as_json=as_json)


HOLD_COLUMNS: list[Column[Any]] = [
    *fields("id", "org_code=ORG"),
    ("FROM", lambda h: h.first_day or "-"),
    ("TO", lambda h: h.last_day or "-"),
    *fields("reason", "created_by=BY"),
]
holds_app = command_group("Legal holds: an organisation's archived days kept past retention.")
archive_app.add_typer(holds_app, name="holds")


@holds_app.command("add")
def holds_add(
    org: str = typer.Argument(help="the organisation's code"),
    reason: str = typer.Option(..., "--reason", help="why (a case, a legal request)"),
    first: str | None = typer.Option(
        None, "--from", help="first day held (YYYY-MM-DD); default all"
    ),
    last: str | None = typer.Option(None, "--to", help="last day held (YYYY-MM-DD); default open"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Put a legal hold on an organisation's archived days, audited."""
    from bastion.audit import Actor
    from bastion.boundary.retention import add_hold

    hold = in_session(
        add_hold, org, reason=reason, actor=Actor.cli(), first_day=_day(first), last_day=_day(last)
    )
    print_rows([hold], HOLD_COLUMNS, as_json=as_json)


@holds_app.command("clear")
def holds_clear(
    hold_id: int = typer.Argument(help="the hold's id (see `bastion archive holds list`)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Lift a legal hold, audited: its days are subject to retention again."""
    from bastion.audit import Actor
    from bastion.boundary.retention import clear_hold

    hold = in_session(clear_hold, hold_id, Actor.cli())
    print_rows([hold], HOLD_COLUMNS, as_json=as_json)


@holds_app.command("list")
def holds_list(as_json: bool = JSON_OPTION) -> None:
    """List the legal holds on archived days."""
    from bastion.boundary.retention import list_holds

    print_rows(in_session(list_holds), HOLD_COLUMNS, as_json=as_json)


def _day(value: str | None) -> date | None:
    from bastion.core.errors import InputError

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        msg = f"not a day (YYYY-MM-DD): {value!r}"
        raise InputError(msg) from None
