"""Compaction: move staged batches into their organisations' partitions, in large files.

Ingest writes one file per batch per day into ``org=_staging``; a compaction reads
a group of committed staged files of one day and writes one file per
organisation. It never shows an event twice or loses one, crash or not:

1. write a marker naming the group's inputs and the outputs it will write;
2. write the outputs (each atomically);
3. delete the inputs, then the marker.

Readers (``archive.visible_files``) hide the inputs once every output of a marker
exists, and hide the outputs until then; ``compact`` finishes or undoes whatever
marker a crash left behind before it starts anything new.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from bastion.boundary.archive import (
    BUCKETS,
    DAY,
    MARKER_GLOB,
    ORG,
    STAGING,
    bucket_of,
    org_partition,
    read_marker,
    staged_buckets,
    write_atomically,
)
from bastion.boundary.schema import ARCHIVE_SCHEMA, conform

# Compressed staged bytes compacted together. A compaction holds one bucket of
# them at a time (1/BUCKETS, a few hundred MB once raw lines are decompressed),
# and writes one file per organisation per group: the larger the group, the
# fewer and larger the files.
GROUP_BYTES = BUCKETS * (32 << 20)


@dataclass
class CompactionStats:
    days: int = 0
    staged_files: int = 0
    events: int = 0
    files_written: int = 0
    recovered: int = 0  # markers of an interrupted compaction finished or undone


def _finish_or_undo(marker: Path) -> None:
    inputs, outputs = read_marker(marker)
    written = [marker.parent / name for name in outputs]
    done = all(f.exists() for f in written)
    for name in inputs if done else outputs:
        (marker.parent / name).unlink(missing_ok=True)
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


@dataclass(frozen=True)
class _Staged:
    """One staged file open for reading, with the bucket of each of its row groups."""

    file: pq.ParquetFile
    buckets: list[int] | None  # None: rows are bucketed as they are read

    def bucket(self, bucket: int, columns: list[str] | None = None) -> pl.DataFrame:
        """Return this file's rows of ``bucket`` (only ``columns``, if given)."""
        if self.buckets is None:
            frame = pl.from_arrow(self.file.read(columns=_with_org(columns)))
            assert isinstance(frame, pl.DataFrame)
            keep = bucket_of(frame.get_column("organization.id")) == bucket
            return frame.filter(keep).select(columns or frame.columns)
        groups = [i for i, b in enumerate(self.buckets) if b == bucket]
        if not groups:
            return pl.DataFrame()
        frame = pl.from_arrow(self.file.read_row_groups(groups, columns=columns))
        assert isinstance(frame, pl.DataFrame)
        return frame

    def all_buckets(self) -> set[int]:
        """Return the buckets this file has rows of."""
        if self.buckets is not None:
            return set(self.buckets)
        codes = self.bucket_codes()
        return set(codes.get_column("bucket").to_list())

    def bucket_codes(self) -> pl.DataFrame:
        """Return the distinct (bucket, org partition) pairs of this file."""
        frame = pl.from_arrow(self.file.read(columns=["organization.id"]))
        assert isinstance(frame, pl.DataFrame)
        codes = frame.get_column("organization.id")
        return pl.DataFrame(
            {
                "bucket": bucket_of(codes),
                ORG: codes.to_frame().select(org_partition(pl.col("organization.id"))).to_series(),
            }
        ).unique()


def _with_org(columns: list[str] | None) -> list[str] | None:
    if columns is None or "organization.id" in columns:
        return columns
    return [*columns, "organization.id"]


def _organisations(staged: list[_Staged]) -> list[str]:
    """Return the org partitions a group of staged files holds (reads one column only)."""
    found: set[str] = set()
    for item in staged:
        codes = pl.from_arrow(item.file.read(columns=["organization.id"]))
        assert isinstance(codes, pl.DataFrame)
        found.update(codes.unique().select(org_partition(pl.col("organization.id"))).to_series())
    return sorted(found)


def _compact_group(day_dir: Path, files: list[Path], stats: CompactionStats) -> None:
    names = [f"{ORG}={STAGING}/{f.name}" for f in files]
    cid = hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]
    staged = [_Staged(f, staged_buckets(f)) for f in map(pq.ParquetFile, files)]
    outputs = {org: f"{ORG}={org}/part-c{cid}.parquet" for org in _organisations(staged)}
    marker = day_dir / f".compaction-{cid}.json"
    marker.write_text(
        json.dumps({"inputs": names, "outputs": sorted(outputs.values())}), encoding="utf-8"
    )
    # One bucket at a time: every organisation is in exactly one, so each output is
    # written once, whole, from the rows of every staged file of the group.
    for bucket in sorted(set().union(*(s.all_buckets() for s in staged))):
        parts = [
            conform(frame, ARCHIVE_SCHEMA)
            for s in staged
            if not (frame := s.bucket(bucket)).is_empty()
        ]
        if not parts:
            continue
        frame = pl.concat(parts).with_columns(org_partition(pl.col("organization.id")).alias(ORG))
        for (org,), part in frame.partition_by(ORG, as_dict=True, include_key=False).items():
            write_atomically(part, day_dir / outputs[str(org)], "parquet")
        stats.events += frame.height
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
    committed: Callable[[str], bool] = lambda _batch: True,
    closed_before: datetime | None = None,
) -> CompactionStats:
    """Move committed staged batches of every day into their organisations' partitions.

    ``committed`` says whether a batch id is committed; a batch that is not (its
    ingest crashed before its SQL commit) stays staged until its rerun commits it.
    With ``closed_before``, only days that ended by then are compacted: a file costs
    the same for ten events as for ten thousand, so an organisation's day is written
    once, when it is over, rather than once per ingest.
    """
    stats = CompactionStats()
    for day_dir in sorted(root.glob(f"{DAY}=*")):
        if not day_closed(day_dir, closed_before):
            continue
        for marker in sorted(day_dir.glob(MARKER_GLOB)):
            _finish_or_undo(marker)
            stats.recovered += 1
        staged = sorted(
            f
            for f in (day_dir / f"{ORG}={STAGING}").glob("part-*.parquet")
            if committed(f.name.removeprefix("part-").removesuffix(".parquet"))
        )
        if not staged:
            continue
        stats.days += 1
        for group in _groups(staged):
            _compact_group(day_dir, group, stats)
    return stats
