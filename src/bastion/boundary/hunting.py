"""Hunting over the Parquet event archive: DuckDB's ``events`` view and Polars scans.

``Hunt`` opens the files ``archive.visible_files`` lists — every committed event
exactly once, staged or compacted — as a read-only DuckDB ``events`` view with the
partition columns ``day`` and ``org``; a staged row takes its ``org`` from its
``organization.id``. The connection may read the archive directory and nothing
else. ``Hunt.scan`` and ``Hunt.rows`` read the same files with Polars, column by
column in bounded batches, for retro-hunts over the whole archive. Writing and
laying out the files is ``boundary.archive``'s side.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from bastion.boundary.archive import DAY, NO_DAY, NO_ORG, ORG, STAGING, UNSAFE_CHARS, visible_files
from bastion.core.errors import InputError
from bastion.core.events import ARCHIVE_SCHEMA
from bastion.core.timeutil import as_utc

SPILL = ".hunt-spill"  # where hunts spill what does not fit in memory (never read as events)
# ``Hunt``'s second view, ``events`` with where each row is: its file and row number in it.
LOCATED = "located"
FILE = "file"
ROW = "file_row_number"
_INDEX = "_index"  # a row's position in one ``Hunt.scan`` read of several files
# ``Hunt.scan`` reads files of about this many bytes at once: its memory is a few times that.
SCAN_BYTES = 128 << 20


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# DuckDB reads ``source.ip`` unquoted as column ``ip`` of a table ``source``.
_DOTTED_TABLE = re.compile(r'Referenced table "([^"]+)" not found')


def query_failure(exc: duckdb.Error, sql: str) -> InputError:
    """Return DuckDB's complaint about ``sql`` as one line a hunter can act on.

    An ECS name written without double quotes (``source.ip``) reads as a table
    ``source``: say so, with the quoted name from the query.
    """
    text = str(exc)
    missing = _DOTTED_TABLE.search(text)
    if missing and missing.group(1).lower() != "events":
        prefix = missing.group(1)
        dotted = re.search(rf'(?<![\w".]){re.escape(prefix)}(?:\.[\w@]+)+', sql)
        name = dotted.group(0) if dotted else f"{prefix}.…"
        msg = (
            f'hunt query failed: there is no table "{prefix}": ECS names with dots need '
            f'double quotes, "{name}", not {name}'
        )
        return InputError(msg)
    # DuckDB's message runs over lines, the last a caret under the error: keep the words.
    lines = (line.strip() for line in text.splitlines())
    words = " ".join(line for line in lines if line and set(line) != {"^"})
    msg = f"hunt query failed: {words}; the table is `events`"
    return InputError(msg)


def archive_columns() -> list[tuple[str, str]]:
    """Return each column of the ``events`` view with its DuckDB type, in order.

    The archive schema's columns, then the partition columns ``day`` and ``org``.
    """
    connection = duckdb.connect(":memory:")
    try:
        connection.register("events", _empty_archive().to_arrow())
        described = connection.sql("DESCRIBE events").fetchall()
    finally:
        connection.close()
    return [(str(row[0]), str(row[1])) for row in described]


class HuntInterrupted(InputError):
    """A hunt's query was interrupted (its time ran out) before it finished."""


def _empty_archive() -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {**ARCHIVE_SCHEMA, DAY: pl.String(), ORG: pl.String()}
    return pl.DataFrame(schema=schema)


def _connect(
    root: Path,
    *,
    union: bool = True,
    memory_limit: str | None = None,
    settings: tuple[str, ...] = (),
) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB with an ``events`` view, able to read only the archive.

    With ``union``, files with different columns are read together (a column missing
    from one is null there), at the cost of reading every file's footer to bind the
    view; without, the view has the first file's columns, and a file lacking one of
    them is an error (``Hunt`` then opens the archive with ``union``). ``settings``
    are ``SET`` statements applied before the configuration is locked.
    """
    connection = duckdb.connect(":memory:")
    try:
        if memory_limit is not None:
            connection.execute(f"SET memory_limit = {_quote(memory_limit)}")
        for setting in settings:
            connection.execute(setting)
        _define_events(connection, root, union=union)
    except duckdb.Error:
        connection.close()
        raise
    return connection


def _resolved(path: Path) -> Path:
    """Return where an archive file really is; raise InputError for a broken or looping link.

    A link that leads outside the archive is resolved too, and then refused by the
    hunt's ``allowed_directories`` when read.
    """
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        msg = f"the archive file cannot be read: {exc}"
        raise InputError(msg) from None


def _define_events(connection: duckdb.DuckDBPyConnection, root: Path, *, union: bool) -> None:
    connection.execute("SET TimeZone = 'UTC'")
    # Each scan of thousands of small files reads their footers again: keep them instead.
    connection.execute("SET parquet_metadata_cache = true")
    # A hunt reads each file once: keeping the bytes read in memory would only grow the process.
    connection.execute("SET enable_external_file_cache = false")
    connection.execute("SET enable_progress_bar = false")
    # A hunt may read the archive and nothing else (binding the view reads footers, so
    # from here on), and may not lift that limit. DuckDB also allows its spill directory
    # (by default .tmp in the working directory): spill inside the archive instead.
    allowed = str(root.resolve()) + "/"
    connection.execute(f"SET temp_directory = {_quote(allowed + SPILL)}")
    connection.execute(f"SET allowed_directories = [{_quote(allowed)}]")
    connection.execute("SET enable_external_access = false")
    files = visible_files(root)
    if not files:
        empty = _empty_archive()
        located = empty.with_columns(
            pl.lit(None, pl.String).alias(FILE), pl.lit(None, pl.Int64).alias(ROW)
        )
        connection.register(LOCATED, located.to_arrow())
        connection.register("events", empty.to_arrow())
    else:
        listed = ", ".join(_quote(str(_resolved(f))) for f in files)
        # Staged rows take their organisation partition from the column itself.
        connection.execute(
            f"CREATE VIEW {LOCATED} AS SELECT * REPLACE (CASE WHEN {ORG} = '{STAGING}' THEN "
            f"coalesce(nullif(regexp_replace(\"organization.id\", '{UNSAFE_CHARS}', '_', 'g'), ''), "
            f"'{NO_ORG}') ELSE {ORG} END AS {ORG}) FROM read_parquet([{listed}], "
            f"hive_partitioning = true, union_by_name = {str(union).lower()}, "
            f"hive_types = {{'{DAY}': VARCHAR, '{ORG}': VARCHAR}}, "
            f"filename = '{FILE}', file_row_number = true)"
        )
        connection.execute(f"CREATE VIEW events AS SELECT * EXCLUDE ({FILE}, {ROW}) FROM {LOCATED}")
    connection.execute("SET lock_configuration = true")


class Hunt:
    """An archive opened for hunting: several queries, its files' footers read once.

    Files written by the same version have the same columns, so the view is first
    bound on the first file's columns alone, which costs nothing per file. When that
    file lacks an archive column, or a query meets a file lacking one of its columns
    (an archive older than its schema), the archive is opened again reading files of
    different columns together. ``memory_limit`` (DuckDB's, e.g. ``"1GB"``) caps what
    its queries hold: DuckDB otherwise keeps footers and buffers up to most of the
    machine's memory. A query that needs more runs again without the cap.

    DuckDB opens the archive at the first query: ``scan`` and ``rows`` read with
    Polars, and a hunt that only scans never pays for binding thousands of files.
    """

    def __init__(
        self,
        root: Path,
        *,
        memory_limit: str | None = None,
        settings: tuple[str, ...] = (),
        strict_memory: bool = False,
    ) -> None:
        self._root = root
        self._union = False
        self._memory_limit = memory_limit
        self._settings = settings
        self._strict_memory = strict_memory  # a query over the limit fails, never runs again
        self._opened: duckdb.DuckDBPyConnection | None = None

    def _connect(self, *, union: bool) -> duckdb.DuckDBPyConnection:
        return _connect(
            self._root, union=union, memory_limit=self._memory_limit, settings=self._settings
        )

    @property
    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._opened is None:
            self._opened = self._open()
        return self._opened

    def _open(self) -> duckdb.DuckDBPyConnection:
        try:
            connection = self._connect(union=False)
        except duckdb.BinderException:  # the first file lacks a column the view names
            self._union = True
            return self._connect(union=True)
        if not set(ARCHIVE_SCHEMA) <= set(connection.sql("FROM events LIMIT 0").columns):
            connection.close()
            self._union = True
            return self._connect(union=True)
        return connection

    def _reopen(self) -> None:
        """Open the archive again, reading files of different columns together if need be."""
        self._connection.close()
        self._opened = self._connect(union=self._union)

    def interrupt(self) -> None:
        """Stop the query running now, from another thread (it raises ``HuntInterrupted``)."""
        if self._opened is not None:
            self._opened.interrupt()

    def query(
        self,
        sql: str,
        *,
        limit: int | None = None,
        offset: int = 0,
        params: list[Any] | None = None,
    ) -> pl.DataFrame:
        """Run one read-only SQL query over the ``events`` view; return the rows.

        Raise InputError with DuckDB's message when the query is wrong, and when it
        is not a single SELECT.
        """
        if limit is not None and limit < 0:
            msg = f"hunt limit must be 0 or more, not {limit}"
            raise InputError(msg)
        try:
            return self._run(sql, limit, offset, params)
        except duckdb.OutOfMemoryException as exc:
            if self._memory_limit is None or self._strict_memory:
                msg = f"hunt query failed: {exc}"
                raise InputError(msg) from exc
            # The limit keeps a hunt lean; a query that needs more gets it rather than failing.
            self._memory_limit = None
        except duckdb.InvalidInputException as exc:
            if self._union or "union_by_name" not in str(exc):
                raise query_failure(exc, sql) from exc
            self._union = True
        self._reopen()
        return self._run(sql, limit, offset, params)

    def _run(
        self, sql: str, limit: int | None, offset: int, params: list[Any] | None = None
    ) -> pl.DataFrame:
        try:
            statements = self._connection.extract_statements(sql)
            # DuckDB rewrites a PRAGMA into a SELECT of its table function: the text
            # differs from what was written. A hunt is a SELECT as written, nothing else.
            if (
                len(statements) != 1
                or statements[0].type != duckdb.StatementType.SELECT
                or statements[0].query.strip().rstrip(";") not in sql
            ):
                msg = "a hunt is one SELECT query over `events`, e.g. SELECT * FROM events LIMIT 10"
                raise InputError(msg)
            relation = self._connection.sql(sql, params=params)
            if limit is not None or offset:
                relation = relation.limit(limit if limit is not None else 2**62, offset)
            return relation.pl()
        except duckdb.InterruptException as exc:
            msg = "the hunt was stopped before it finished"
            raise HuntInterrupted(msg) from exc
        except (duckdb.InvalidInputException, duckdb.OutOfMemoryException):
            raise  # maybe files of different columns, or the memory limit: ``query`` decides
        except duckdb.Error as exc:
            raise query_failure(exc, sql) from exc

    def rows(self, located: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
        """Return ``columns`` of the rows ``located`` names (``file``, ``file_row_number``, as
        the ``located`` view and ``scan`` give them), in its order; the ``file`` and row
        columns too.

        Only the files named are read, by Polars in batches of about ``SCAN_BYTES``:
        fetching a wide column (the raw line) for a few rows found by a scan of narrow
        ones costs those files, not the whole archive. A file lacking a column reads it
        as null.
        """
        schema = {c: ARCHIVE_SCHEMA.get(c, pl.String()) for c in columns}
        wanted = located.select(
            pl.col(FILE).cast(pl.String), pl.col(ROW).cast(pl.Int64)
        ).with_row_index("_order")
        files = wanted[FILE].unique().sort().to_list()
        parts = [pl.DataFrame(schema={FILE: pl.String(), ROW: pl.Int64(), **schema})]
        order = [wanted.clear()["_order"]]
        for batch in _batches(files):
            frame = _read(batch, schema)
            picked = (
                wanted.filter(pl.col(FILE).is_in(batch))
                .join(_starts(frame), on=FILE, how="left")
                .with_columns(
                    (pl.col(ROW) + pl.col("_start")).cast(frame[_INDEX].dtype).alias(_INDEX)
                )
            )
            rows = frame.drop(FILE).join(picked.drop("_start"), on=_INDEX, how="inner")
            parts.append(_copied(rows.select(FILE, ROW, *schema)))
            order.append(rows["_order"])
        return pl.concat(parts).with_columns(_order=pl.concat(order)).sort("_order").drop("_order")

    def scan(
        self, columns: list[str], keep: Callable[[pl.DataFrame], pl.Series], since: datetime
    ) -> pl.DataFrame:
        """Return ``columns`` of the events at or after ``since`` that ``keep`` keeps, with
        their ``file`` and ``file_row_number`` (as ``located`` gives them, for ``rows``).

        The archive is read once by Polars (its threads, no Python per file), only
        ``columns`` and the time, in batches of files of about ``SCAN_BYTES`` on disk:
        ``keep`` gets each batch's columns and says which rows to keep, and the rest
        are dropped before the next batch is read, so memory stays bounded however
        large the archive or a day of it. A file lacking a column reads it as null.
        """
        first_day = f"{DAY}={as_utc(since):%Y-%m-%d}"
        files = [
            str(f.resolve())
            for f in visible_files(self._root)
            if f.parent.parent.name >= first_day and f.parent.parent.name != f"{DAY}={NO_DAY}"
        ]
        schema = {c: ARCHIVE_SCHEMA.get(c, pl.String()) for c in ["@timestamp", *columns]}
        kept = [_empty_located(schema)]
        kept += [_scan_batch(batch, schema, keep, as_utc(since)) for batch in _batches(files)]
        return pl.concat(kept).drop("@timestamp")

    def profile(self) -> dict[str, Any]:
        """Return DuckDB's metrics of the last query, with ``rows_scanned``: the rows its
        scans read (the sum over the plan's scan operators).

        Empty unless the hunt was opened with ``SET enable_profiling = 'no_output'``.
        """
        if self._opened is None:
            return {}
        try:
            found = json.loads(self._opened.get_profiling_information(format="json"))
        except duckdb.Error:
            return {}
        scanned, nodes = 0, list(found.get("children", []))
        while nodes:
            node = nodes.pop()
            scanned += int(node.get("operator_rows_scanned") or 0)
            nodes.extend(node.get("children", []))
        metrics = {k: v for k, v in found.items() if k != "children"}
        return {**metrics, "rows_scanned": scanned}

    def close(self) -> None:
        if self._opened is not None:
            self._opened.close()
            self._opened = None

    def __enter__(self) -> Hunt:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _batches(files: list[str]) -> list[list[str]]:
    """Split ``files`` into runs of about ``SCAN_BYTES`` on disk (a file more never splits)."""
    batches: list[list[str]] = [[]]
    size = 0
    for file in files:
        if size >= SCAN_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(file)
        size += Path(file).stat().st_size
    return [b for b in batches if b]


def _read(files: list[str], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Read ``schema``'s columns of ``files`` (missing ones null), their rows numbered in
    order across them (``_INDEX``), each with its file."""
    return pl.scan_parquet(
        files,
        schema=schema,
        missing_columns="insert",
        extra_columns="ignore",
        hive_partitioning=False,
        include_file_paths=FILE,
        row_index_name=_INDEX,
    ).collect()


def _scan_batch(
    files: list[str],
    schema: dict[str, pl.DataType],
    keep: Callable[[pl.DataFrame], pl.Series],
    since: datetime,
) -> pl.DataFrame:
    frame = _read(files, schema)
    wanted = (keep(frame) & (frame["@timestamp"] >= since)).fill_null(value=False)
    return _located(frame, wanted)


def _empty_located(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema={**schema, FILE: pl.String(), ROW: pl.Int64()})


def _starts(frame: pl.DataFrame) -> pl.DataFrame:
    """Return (``file``, ``_start``): where each file's rows start in one ``_read`` of several.

    The read numbers its rows across its files, in order: a file's rows are one run,
    and a row's number in its file is its position less where that run starts.
    """
    runs = frame[FILE].rle()
    length = runs.struct.field("len")
    return pl.DataFrame({FILE: runs.struct.field("value"), "_start": length.cum_sum() - length})


def _located(frame: pl.DataFrame, wanted: pl.Series) -> pl.DataFrame:
    """Return the ``wanted`` rows of one ``_read``, numbered within their files."""
    located = (
        frame.filter(wanted)
        .join(_starts(frame), on=FILE, how="left", maintain_order="left")
        .with_columns((pl.col(_INDEX) - pl.col("_start")).cast(pl.Int64).alias(ROW))
        .drop(_INDEX, "_start")
    )
    return _copied(located)


def _copied(frame: pl.DataFrame) -> pl.DataFrame:
    """Return the few rows of ``frame`` out of the read they came from.

    Filtered strings still point into the whole read's buffers: copied out, a kept
    batch does not keep its read alive (gigabytes over an archive).
    """
    copied = pl.from_arrow(frame.to_arrow(compat_level=pl.CompatLevel.oldest()))
    assert isinstance(copied, pl.DataFrame)
    return copied.cast(frame.schema)


ArchiveState = tuple[tuple[str, int, int], ...]


def archive_state(root: Path) -> ArchiveState:
    """Return what the archive holds now: each visible file with its size and modification
    time (nanoseconds). The same state reads the same events: a query's answer may be kept
    while the state stays the same."""
    state = []
    for path in visible_files(root):
        try:
            stat = path.stat()
        except OSError:  # gone since listed (a compaction): a state no later one equals
            state.append((str(path), -1, -1))
            continue
        state.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(state)


def hunt(root: Path, sql: str, *, limit: int | None = None) -> pl.DataFrame:
    """Run one read-only SQL query over the archive's ``events`` view; return the rows.

    ``events`` has the archive columns plus the partition columns ``day`` and
    ``org`` (strings). Raise InputError with DuckDB's message when the query is
    wrong, and when it is not a single SELECT. (``Hunt`` runs several.)
    """
    if limit is not None and limit < 0:
        msg = f"hunt limit must be 0 or more, not {limit}"
        raise InputError(msg)
    with Hunt(root) as opened:
        return opened.query(sql, limit=limit)
