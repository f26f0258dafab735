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
from pathlib import Path

import polars as pl

from bastion.boundary.archive import (
    DAY,
    MARKER_GLOB,
    ORG,
    STAGING,
    org_partition,
    read_marker,
    write_atomically,
)

# Compressed staged bytes compacted together: raw lines shrink several times in
# Parquet, so this bounds the memory a compaction takes to a few hundred MB.
GROUP_BYTES = 32 << 20


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


def _compact_group(day_dir: Path, staged: list[Path], stats: CompactionStats) -> None:
    names = [f"{ORG}={STAGING}/{f.name}" for f in staged]
    cid = hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]
    frame = pl.read_parquet(staged).with_columns(
        org_partition(pl.col("organization.id")).alias(ORG)
    )
    parts = frame.partition_by(ORG, as_dict=True, include_key=False)
    outputs = {f"{ORG}={org}/part-c{cid}.parquet": part for (org,), part in parts.items()}
    marker = day_dir / f".compaction-{cid}.json"
    marker.write_text(json.dumps({"inputs": names, "outputs": sorted(outputs)}), encoding="utf-8")
    for name, part in outputs.items():
        write_atomically(part, day_dir / name, "parquet")
    _finish_or_undo(marker)
    stats.staged_files += len(staged)
    stats.events += frame.height
    stats.files_written += len(outputs)


def compact(
    root: Path, *, committed: Callable[[str], bool] = lambda _batch: True
) -> CompactionStats:
    """Move committed staged batches of every day into their organisations' partitions.

    ``committed`` says whether a batch id is committed; a batch that is not (its
    ingest crashed before its SQL commit) stays staged until its rerun commits it.
    """
    stats = CompactionStats()
    for day_dir in sorted(root.glob(f"{DAY}=*")):
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
