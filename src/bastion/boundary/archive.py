"""The Parquet event archive: write batches, hunt over them with DuckDB, prune by age.

Layout (Hive partitioning by day and organisation)::

    <root>/day=YYYY-MM-DD/org=_staging/part-<batch_id>.parquet.pending (until committed)
    <root>/day=YYYY-MM-DD/org=_staging/part-<batch_id>.parquet   (as ingested)
    <root>/day=YYYY-MM-DD/org=CODE/part-c<compaction_id>.parquet (after ``compact``)

A batch lands in its day's staging partition as one file: writing a file per
organisation per batch would cost thousands of tiny files a minute at national
scale. ``compaction.compact`` then moves committed batches into their
organisations' partitions in large files. Hunts see both, never an event twice.
Staged files favour speed (lz4 throughout), compacted ones size (zstd raw lines).

A batch becomes visible only once it is committed: ``stage_batch`` writes its
files as ``part-<batch_id>.parquet.pending``, a name no reader globs, and the
pipeline ``publish``es them by rename after the batch's SQL commit (see
``boundary.pending`` for what a crash between the two leaves and who settles it).

``day`` is the UTC date of ``@timestamp``. An event without a timestamp goes to
``day=unknown`` (the archive keeps it rather than guess a date; ``prune`` never
removes it, a person decides). An event without an organisation goes to
``org=_none``. Files are compressed (lz4, zstd for raw lines) and written under a temporary name, then
renamed, so a reader never sees half a file and writing the same batch id again
replaces its files instead of adding copies: a batch redelivered after a crash
leaves exactly one copy of each event. A batch id names fixed content; the
pipeline never reuses one for different events.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from bastion.core.errors import InputError
from bastion.core.events import ARCHIVE_SCHEMA, LINE_COLUMN, conform
from bastion.core.timeutil import as_utc

NO_DAY = "unknown"
NO_ORG = "_none"
STAGING = "_staging"  # the org= partition where batches land before compaction
PENDING = ".pending"  # suffix of a batch's files written but not committed yet: never read
SPILL = ".hunt-spill"  # where hunts spill what does not fit in memory (never read as events)
MARKER_GLOB = ".compaction-*.json"
RAW = "event.original"
SMALL_FILE_ROWS = 20_000
# Columns of few distinct values per file: worth a dictionary.
DICTIONARY_COLUMNS = frozenset(
    {
        "event.dataset",
        "event.action",
        "event.type",
        "observer.vendor",
        "observer.product",
        "observer.name",
        "network.transport",
        "network.protocol",
        "http.request.method",
        "http.response.status_code",
        "dns.question.type",
        "dns.response_code",
        "rule.name",
        "log.file.path",
        "organization.id",
    }
)
# Columns whose min/max let a hunt skip a file: time, source, organisation.
STATISTICS_COLUMNS = frozenset(
    {"@timestamp", "event.dataset", "log.file.path", "organization.id"}
)  # a compaction under way: its inputs and outputs
DAY = "day"
ORG = "org"
# ``Hunt``'s second view, ``events`` with where each row is: its file and row number in it.
LOCATED = "located"
FILE = "file"
ROW = "file_row_number"
_INDEX = "_index"  # a row's position in one ``Hunt.scan`` read of several files
# ``Hunt.scan`` reads files of about this many bytes at once: its memory is a few times that.
SCAN_BYTES = 128 << 20

# Batch ids become file names: keep them to characters safe on every file system.
_BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# Partition values come from data (organisation codes); anything else is replaced.
_UNSAFE = r"[^A-Za-z0-9_-]"

_DUCKDB_TYPES: dict[type[pl.DataType], str] = {
    pl.String: "VARCHAR",
    pl.Int32: "INTEGER",
    pl.Int64: "BIGINT",
    pl.Datetime: "TIMESTAMPTZ",
}


def check_batch_id(batch_id: str) -> str:
    """Return ``batch_id`` if it can name a file, or raise InputError."""
    if not _BATCH_ID.fullmatch(batch_id):
        msg = (
            f"invalid batch id {batch_id!r}: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
        raise InputError(msg)
    return batch_id


def _codecs(columns: list[str], *, staged: bool) -> dict[str, str]:
    """Pick a codec per column: zstd for the raw line of a kept file, lz4 for the rest.

    A file per organisation per day is often small, and zstd's set-up per column
    chunk then costs more than the compression: lz4 keeps that at a fraction,
    while the raw line, most of the bytes, still gets zstd's ratio. Level 1: on
    log lines it compresses as well as the default level 3 at half the time. A
    staged file lives until its day is compacted: its raw lines get lz4 too, a
    third faster on the ingest path, and zstd when compaction rewrites them.
    """
    return {name: "zstd" if name == RAW and not staged else "lz4" for name in columns}


def parquet_options(columns: list[str], rows: int, *, staged: bool = False) -> dict[str, Any]:
    """Return ``pq.write_table`` options for an archive file of ``rows`` rows.

    Dictionaries only for columns of few distinct values (a dictionary of addresses,
    times or raw lines is built only to be thrown away), statistics only for the
    columns a hunt prunes files by. A small file (an organisation's quiet day) is
    already pruned by its partition and gets neither: they would be most of its cost.
    """
    large = rows >= SMALL_FILE_ROWS
    return {
        "compression": _codecs(columns, staged=staged),
        "compression_level": {RAW: 1} if RAW in columns and not staged else None,
        "use_dictionary": [c for c in columns if c in DICTIONARY_COLUMNS] if large else False,
        "write_statistics": [c for c in columns if c in STATISTICS_COLUMNS] if large else False,
    }


def write_atomically(
    frame: pl.DataFrame | pa.Table,
    target: Path,
    write: Literal["parquet", "ndjson"],
    *,
    staged: bool = False,
) -> None:
    """Write ``frame`` to ``target`` via a temporary sibling and a rename.

    The temporary name does not end in the target's suffix, so globbing readers
    never pick up a partial file. An Arrow table (a slice of a larger one, say)
    is written as it is, without a conversion per file. ``staged``: a staging
    file, compressed for speed rather than size.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        if write == "parquet":
            # String views as Polars holds them: no copy of every string into a new layout.
            table = (
                frame
                if isinstance(frame, pa.Table)
                else frame.to_arrow(compat_level=pl.CompatLevel.newest())
            )
            options = parquet_options(table.column_names, table.num_rows, staged=staged)
            pq.write_table(table, temporary, **options)
        else:
            as_frame = frame if isinstance(frame, pl.DataFrame) else pl.DataFrame(frame)
            as_frame.write_ndjson(temporary)
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)


def _partition_path(root: Path, day: str, org: str, batch_id: str) -> Path:
    return root / f"{DAY}={day}" / f"{ORG}={org}" / f"part-{batch_id}.parquet"


def stage_batch(events: pl.DataFrame, root: Path, batch_id: str) -> list[Path]:
    """Write one batch of events, not yet visible, in the staging area of each day it touches.

    Return the pending files written, for ``publish`` once the batch is committed.
    Columns outside ARCHIVE_SCHEMA are dropped, missing ones are null. Staging the
    same ``batch_id`` again replaces its pending files.
    """
    check_batch_id(batch_id)
    if events.is_empty():
        return []
    conformed = conform(events, ARCHIVE_SCHEMA).drop(LINE_COLUMN, strict=False)
    days = conformed.get_column("@timestamp").dt.date()
    first = days[0]
    if days.null_count() == 0 and (days == first).all():  # the usual case: no partitioning copy
        parts = {first.isoformat(): conformed}
    else:
        keyed = conformed.with_columns(days.dt.strftime("%Y-%m-%d").fill_null(NO_DAY).alias(DAY))
        # One file per day a batch touches (usually one), never per event or organisation.
        parts = {
            str(day): part
            for (day,), part in keyed.partition_by(DAY, as_dict=True, include_key=False).items()
        }
    written = []
    for day, part in parts.items():
        final = _partition_path(root, day, STAGING, batch_id)
        target = final.with_name(final.name + PENDING)
        write_atomically(part, target, "parquet", staged=True)
        written.append(target)
    return written


def publish(pending: list[Path]) -> None:
    """Make pending files visible by renaming each to its name without ``PENDING``.

    A file already gone was published by someone else (another worker adopting it).
    """
    for path in pending:
        try:
            path.replace(path.with_name(path.name.removesuffix(PENDING)))
        except FileNotFoundError:
            continue


def write_batch(events: pl.DataFrame, root: Path, batch_id: str) -> int:
    """Archive one batch of events, visible at once (no commit to wait for); return how many.

    Writing the same ``batch_id`` again replaces that batch's files.
    """
    publish(stage_batch(events, root, batch_id))
    return events.height


def org_partition(codes: pl.Expr) -> pl.Expr:
    """Return the ``org=`` partition value of organisation codes (unsafe characters replaced)."""
    return codes.str.replace_all(_UNSAFE, "_").fill_null(NO_ORG).replace("", NO_ORG)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _empty_archive() -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {**ARCHIVE_SCHEMA, DAY: pl.String(), ORG: pl.String()}
    return pl.DataFrame(schema=schema)


def read_marker(marker: Path) -> tuple[list[str], list[str]]:
    """Return the staged inputs and the outputs (paths relative to the day) a compaction marker names."""
    data = json.loads(marker.read_text(encoding="utf-8"))
    return list(data["inputs"]), list(data["outputs"])


def visible_files(root: Path) -> list[Path]:
    """List the archive's Parquet files a reader should see: every event exactly once.

    A compaction under way (its marker still there) shows its outputs only once
    all of them are written, and then hides the staged inputs they replace.
    """
    files = set(root.glob(f"{DAY}=*/{ORG}=*/*.parquet"))
    for marker in root.glob(f"{DAY}=*/{MARKER_GLOB}"):
        inputs, outputs = read_marker(marker)
        written = [marker.parent / name for name in outputs]
        hidden = inputs if all(f.exists() for f in written) else outputs
        files.difference_update(marker.parent / name for name in hidden)
    return sorted(files)


def _connect(
    root: Path, *, union: bool = True, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB with an ``events`` view, able to read only the archive.

    With ``union``, files with different columns are read together (a column missing
    from one is null there), at the cost of reading every file's footer to bind the
    view; without, the view has the first file's columns, and a file lacking one of
    them is an error (``Hunt`` then opens the archive with ``union``).
    """
    connection = duckdb.connect(":memory:")
    try:
        if memory_limit is not None:
            connection.execute(f"SET memory_limit = {_quote(memory_limit)}")
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
            f"coalesce(nullif(regexp_replace(\"organization.id\", '{_UNSAFE}', '_', 'g'), ''), "
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

    def __init__(self, root: Path, *, memory_limit: str | None = None) -> None:
        self._root = root
        self._union = False
        self._memory_limit = memory_limit
        self._opened: duckdb.DuckDBPyConnection | None = None

    @property
    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._opened is None:
            self._opened = self._open()
        return self._opened

    def _open(self) -> duckdb.DuckDBPyConnection:
        try:
            connection = _connect(self._root, union=False, memory_limit=self._memory_limit)
        except duckdb.BinderException:  # the first file lacks a column the view names
            self._union = True
            return _connect(self._root, union=True, memory_limit=self._memory_limit)
        if not set(ARCHIVE_SCHEMA) <= set(connection.sql("FROM events LIMIT 0").columns):
            connection.close()
            self._union = True
            return _connect(self._root, union=True, memory_limit=self._memory_limit)
        return connection

    def _reopen(self) -> None:
        """Open the archive again, reading files of different columns together if need be."""
        self._connection.close()
        self._opened = _connect(self._root, union=self._union, memory_limit=self._memory_limit)

    def query(self, sql: str, *, limit: int | None = None) -> pl.DataFrame:
        """Run one read-only SQL query over the ``events`` view; return the rows.

        Raise InputError with DuckDB's message when the query is wrong, and when it
        is not a single SELECT.
        """
        if limit is not None and limit < 0:
            msg = f"hunt limit must be 0 or more, not {limit}"
            raise InputError(msg)
        try:
            return self._run(sql, limit)
        except duckdb.OutOfMemoryException as exc:
            if self._memory_limit is None:
                msg = f"hunt query failed: {exc}"
                raise InputError(msg) from exc
            # The limit keeps a hunt lean; a query that needs more gets it rather than failing.
            self._memory_limit = None
        except duckdb.InvalidInputException as exc:
            if self._union or "union_by_name" not in str(exc):
                msg = f"hunt query failed: {exc}; the table is `events` (see `bastion hunt --help`)"
                raise InputError(msg) from exc
            self._union = True
        self._reopen()
        return self._run(sql, limit)

    def _run(self, sql: str, limit: int | None) -> pl.DataFrame:
        try:
            statements = self._connection.extract_statements(sql)
            if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
                msg = "a hunt is one SELECT query over `events`, e.g. SELECT * FROM events LIMIT 10"
                raise InputError(msg)
            relation = self._connection.sql(sql)
            if limit is not None:
                relation = relation.limit(limit)
            return relation.pl()
        except (duckdb.InvalidInputException, duckdb.OutOfMemoryException):
            raise  # maybe files of different columns, or the memory limit: ``query`` decides
        except duckdb.Error as exc:
            msg = f"hunt query failed: {exc}; the table is `events` (see `bastion hunt --help`)"
            raise InputError(msg) from exc

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


def _partition_day(directory: Path) -> date | None:
    name = directory.name
    if not name.startswith(f"{DAY}="):
        return None
    try:
        return date.fromisoformat(name[len(DAY) + 1 :])
    except ValueError:
        return None  # day=unknown and anything else not a date: never pruned


def prune(root: Path, older_than_days: int, now: datetime) -> int:
    """Delete day partitions whose every event is older than ``older_than_days``.

    A day partition goes when its whole day ended at or before ``now`` minus
    ``older_than_days``. ``day=unknown`` is kept. Return how many Parquet files
    were removed.
    """
    if older_than_days < 0:
        msg = f"--older-than must be 0 days or more, not {older_than_days}"
        raise InputError(msg)
    if not root.is_dir():
        return 0
    cutoff = as_utc(now) - timedelta(days=older_than_days)
    removed = 0
    for directory in sorted(root.iterdir()):
        day = _partition_day(directory)
        if day is None or not directory.is_dir():
            continue
        day_end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
        if day_end <= cutoff:
            removed += sum(1 for _ in directory.glob(f"{ORG}=*/*.parquet"))
            shutil.rmtree(directory)
    return removed
