"""Compaction: move a day's staged batches into its organisations' partitions, one file each.

Ingest writes one file per batch per day into ``org=_staging``, cheaply, on the
hot path. Once the day is over, a compaction writes each organisation's events
of that day into one file: a Parquet file costs about the same to write for ten
events as for ten thousand, so writing an organisation's day once, and never
per batch, is what keeps the archive's file count at organisations × days.

Memory stays bounded whatever the day's volume: a group of staged files (up to
``GROUP_BYTES``) is first streamed, a slice at a time, into one scratch file per
bucket of organisations, then each bucket is read alone and written out per
organisation. It never shows an event twice or loses one, crash or not:

1. write a marker naming the group's inputs and the outputs it will write;
2. write the outputs (each atomically), bucket by bucket;
3. delete the inputs, then the marker and the scratch folder.

Readers (``archive.visible_files``) hide the inputs once every output of a marker
exists, and hide the outputs until then; ``compact`` finishes or undoes whatever
marker a crash left behind before it starts anything new. The scratch folder
(``.compaction-<id>/``) is never read by a hunt.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from bastion.boundary.archive import (
    DAY,
    MARKER_GLOB,
    ORG,
    STAGING,
    org_partition,
    parquet_options,
    read_marker,
)
from bastion.boundary.crashpoints import crash_point
from bastion.boundary.pending import settle
from bastion.core.events import ARCHIVE_SCHEMA, conform

# Compressed staged bytes per bucket: raw lines shrink several times in Parquet,
# so a bucket in memory is a few hundred MB at most.
BUCKET_BYTES = 32 << 20
MAX_BUCKETS = 256
# Staged bytes compacted together, so an organisation gets one file per group: a
# day up to this size (about 80 million events of firewall logs) gets one per day.
GROUP_BYTES = MAX_BUCKETS * BUCKET_BYTES
# Rows in memory at once: a staged file is split into buckets, and a bucket written
# out, this many rows at a time. A slice in memory costs ~3 KB a row at its peak (the
# reader's buffers, the frame, its sorted copy), so a day of one organisation (a web
# server's own log) compacts in under 1 GB; a slice is a row group of an output at most.
SPLIT_ROWS = 1 << 16
SLICE_ROWS = 1 << 17


@dataclass
class CompactionStats:
    days: int = 0
    staged_files: int = 0
    events: int = 0
    files_written: int = 0
    recovered: int = 0  # markers of an interrupted compaction finished or undone


def _scratch(marker: Path) -> Path:
    return marker.with_suffix("")  # .compaction-<id>.json → .compaction-<id>/


def _finish_or_undo(marker: Path) -> None:
    inputs, outputs = read_marker(marker)
    written = [marker.parent / name for name in outputs]
    done = all(f.exists() for f in written)
    for name in inputs if done else outputs:
        (marker.parent / name).unlink(missing_ok=True)
    shutil.rmtree(_scratch(marker), ignore_errors=True)
    marker.unlink()


def _groups(files: list[Path]) -> list[list[Path]]:
    groups: list[list[Path]] = [[]]
    size = 0
    for file in files:
        if groups[-1] and size + file.stat().st_size > GROUP_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(file)
        size += file.stat().st_size
    return [g for g in groups if g]


def bucket_of(partitions: pl.Series, buckets: int) -> pl.Series:
    """Return the bucket (0..buckets-1) of each org partition value, hashed once per distinct one."""
    distinct = partitions.unique()
    mapping = pl.DataFrame(
        {
            "code": distinct,
            "bucket": pl.Series(
                [zlib.crc32(code.encode()) % buckets for code in distinct.to_list()],
                dtype=pl.UInt16,
            ),
        }
    )
    joined = partitions.to_frame("code").join(mapping, on="code", how="left", maintain_order="left")
    return joined.get_column("bucket")


def _slices(path: Path) -> Iterator[pl.DataFrame]:
    """Read a staged file a slice at a time, in the archive schema (whatever it was written with)."""
    for batch in pq.ParquetFile(path).iter_batches(batch_size=SPLIT_ROWS):
        yield conform(pl.from_arrow(batch), ARCHIVE_SCHEMA)  # type: ignore[arg-type]


def _split_into_buckets(files: list[Path], scratch: Path, buckets: int) -> dict[str, int]:
    """Stream the staged files' rows into one scratch file per bucket; return rows per org partition.

    A slice of a staged file at a time is in memory, and each bucket's file stays
    open for the whole group: a few hundred scratch files per group, however many
    staged files it has.
    """
    rows: dict[str, int] = {}
    writers: dict[int, pq.ParquetWriter] = {}
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        for path in files:
            for frame in _slices(path):
                keyed = frame.with_columns(org_partition(pl.col("organization.id")).alias(ORG))
                for org, count in keyed.get_column(ORG).value_counts().iter_rows():
                    rows[org] = rows.get(org, 0) + count
                keyed = keyed.with_columns(bucket_of(keyed.get_column(ORG), buckets).alias("_b"))
                for (bucket,), part in keyed.partition_by("_b", as_dict=True).items():
                    table = part.drop("_b").to_arrow()
                    number = int(bucket)
                    if number not in writers:
                        target = scratch / f"b{number:03d}.parquet"
                        writers[number] = pq.ParquetWriter(target, table.schema, compression="lz4")
                    writers[number].write_table(table)
    finally:
        for writer in writers.values():
            writer.close()
    return rows


class _Outputs:
    """The organisations' output files of one group, written in parts, renamed when whole."""

    def __init__(self, day_dir: Path, names: dict[str, str], rows: dict[str, int]) -> None:
        self.day_dir, self.names, self.rows = day_dir, names, rows
        self.open: dict[str, tuple[pq.ParquetWriter, Path]] = {}

    def write(self, org: str, table: pa.Table) -> None:
        if org not in self.open:
            target = self.day_dir / self.names[org]
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
            options = parquet_options(table.column_names, self.rows[org])
            self.open[org] = (pq.ParquetWriter(temporary, table.schema, **options), temporary)
        self.open[org][0].write_table(table)

    def close(self, *, keep: bool) -> None:
        """Close every open file: rename each to its name (``keep``), or delete it."""
        for org, (writer, temporary) in self.open.items():
            writer.close()
            if keep:
                temporary.replace(self.day_dir / self.names[org])
            else:
                temporary.unlink(missing_ok=True)
        self.open = {}


def _write_slice(batch: pa.RecordBatch, outputs: _Outputs) -> int:
    """Write a slice of a bucket to its organisations' outputs; return its rows.

    A function of its own so that the slice's copies are freed before the next
    slice is read: held across the read, they doubled the peak.
    """
    # Sorted by organisation and turned into Arrow once: each part is a zero-copy slice.
    frame = pl.DataFrame(batch).sort(ORG, maintain_order=True)
    runs = frame.group_by(ORG, maintain_order=True).len()
    table = frame.drop(ORG).to_arrow(compat_level=pl.CompatLevel.newest())
    start = 0
    for org, rows in runs.iter_rows():
        outputs.write(str(org), table.slice(start, rows))
        start += rows
    return frame.height


def _write_bucket(bucket: Path, outputs: _Outputs) -> int:
    """Write one bucket's rows to their organisations' outputs; return how many.

    The bucket is read ``SLICE_ROWS`` at a time, so one organisation with most of
    the day (a web server's own log) costs no more memory than many small ones: its
    output then has a row group per slice.
    """
    events = 0
    try:
        for batch in pq.ParquetFile(bucket).iter_batches(batch_size=SLICE_ROWS):
            events += _write_slice(batch, outputs)
    except BaseException:
        outputs.close(keep=False)
        raise
    outputs.close(keep=True)
    return events


def _compact_group(day_dir: Path, files: list[Path], stats: CompactionStats) -> None:
    names = [f"{ORG}={STAGING}/{f.name}" for f in files]
    cid = hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]
    marker = day_dir / f".compaction-{cid}.json"
    scratch = _scratch(marker)
    buckets = max(
        1, min(MAX_BUCKETS, math.ceil(sum(f.stat().st_size for f in files) / BUCKET_BYTES))
    )
    shutil.rmtree(scratch, ignore_errors=True)
    rows = _split_into_buckets(files, scratch, buckets)
    outputs = {org: f"{ORG}={org}/part-c{cid}.parquet" for org in sorted(rows)}
    marker.write_text(
        json.dumps({"inputs": names, "outputs": sorted(outputs.values())}), encoding="utf-8"
    )
    # Every organisation is in exactly one bucket, so each output is written by one bucket.
    for bucket in sorted(scratch.glob("b*.parquet")):
        stats.events += _write_bucket(bucket, _Outputs(day_dir, outputs, rows))
        crash_point("during-compaction")
    _finish_or_undo(marker)
    stats.staged_files += len(files)
    stats.files_written += len(outputs)


def day_closed(day_dir: Path, closed_before: datetime | None) -> bool:
    """Tell whether a day partition ended before ``closed_before`` (None: every day has).

    ``day=unknown`` (events without a time) never fills up by the clock: it always counts.
    """
    if closed_before is None:
        return True
    try:
        day = date.fromisoformat(day_dir.name.removeprefix(f"{DAY}="))
    except ValueError:
        return True
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1) <= closed_before


def compact(
    root: Path,
    *,
    committed: Callable[[str], bool] | None = None,
    closed_before: datetime | None = None,
) -> CompactionStats:
    """Move committed staged batches of every day into their organisations' partitions.

    ``committed`` says whether a batch id is committed. Given, pending batches are
    settled first (``pending.settle``): a committed one a crash left unpublished is
    published, and so compacted with the rest. Not given, every published batch
    counts as committed and pending ones are left alone. With ``closed_before``, only days
    that ended by then are compacted, so an organisation's day is written once,
    when it is over, rather than once per ingest.
    """
    stats = CompactionStats()
    if committed is not None:
        settle(root, committed, now=datetime.now(UTC))
    for day_dir in sorted(root.glob(f"{DAY}=*")):
        for marker in sorted(day_dir.glob(MARKER_GLOB)):
            _finish_or_undo(marker)
            stats.recovered += 1
        for orphan in day_dir.glob(".compaction-*"):
            if orphan.is_dir():  # split into buckets, then a crash before its marker
                shutil.rmtree(orphan, ignore_errors=True)
        if not day_closed(day_dir, closed_before):
            continue
        staged = sorted(
            f
            for f in (day_dir / f"{ORG}={STAGING}").glob("part-*.parquet")
            if committed is None or committed(f.name.removeprefix("part-").removesuffix(".parquet"))
        )
        if not staged:
            continue
        stats.days += 1
        for group in _groups(staged):
            _compact_group(day_dir, group, stats)
    return stats
