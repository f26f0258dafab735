"""The Parquet event archive: write batches, list the files readers see, prune by age.

Layout (Hive partitioning by day and organisation)::

    <root>/day=YYYY-MM-DD/org=_staging/part-<batch_id>.parquet.pending (until committed)
    <root>/day=YYYY-MM-DD/org=_staging/part-<batch_id>.parquet   (as ingested)
    <root>/day=YYYY-MM-DD/org=CODE/part-c<compaction_id>.parquet (after ``compact``)

A batch lands in its day's staging partition as one file: writing a file per
organisation per batch would cost thousands of tiny files a minute at national
scale. ``compaction.compact`` then moves committed batches into their
organisations' partitions in large files. Hunts (``boundary.hunting``) see both,
never an event twice. Staged files favour speed (lz4 throughout), compacted ones
size (zstd raw lines).

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
import os
import re
import shutil
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

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

# Batch ids become file names: keep them to characters safe on every file system.
_BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# Partition values come from data (organisation codes); anything else is replaced.
UNSAFE_CHARS = r"[^A-Za-z0-9_-]"


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
    durable: bool = False,
) -> None:
    """Write ``frame`` to ``target`` via a temporary sibling and a rename.

    The temporary name does not end in the target's suffix, so globbing readers
    never pick up a partial file. An Arrow table (a slice of a larger one, say)
    is written as it is, without a conversion per file. ``staged``: a staging
    file, compressed for speed rather than size. ``durable``: on disk (the file and
    its name fsynced) when this returns, not only in the page cache.
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
        if durable:
            _fsync(temporary)
        temporary.replace(target)
        if durable:
            _fsync(target.parent)
    finally:
        temporary.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    """Flush a file, or a directory's entries, to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
        # Durable before the batch's commit: a worker acknowledges its message after that.
        write_atomically(part, target, "parquet", staged=True, durable=True)
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
    return codes.str.replace_all(UNSAFE_CHARS, "_").fill_null(NO_ORG).replace("", NO_ORG)


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
