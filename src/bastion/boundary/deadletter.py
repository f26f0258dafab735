"""The dead-letter sink: every line the pipeline could not read, with the reason why.

Layout: ``<root>/<YYYY-MM-DD>/<batch_id>.jsonl``, one JSON object per rejected
line with ``source``, ``line`` (1-based), ``offset`` (bytes), ``format``, ``raw``
and ``reason``. The date is the UTC day the batch was first written; a batch
written again (redelivered after a crash) replaces its file wherever it is, so
it never appears twice, even across midnight.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl

from bastion.boundary.archive import check_batch_id, write_atomically
from bastion.core.timeutil import as_utc, utcnow

DEADLETTER_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),  # file path or stream name
    "line": pl.Int64(),  # 1-based line number in the source
    "offset": pl.Int64(),  # byte offset of the line in the source
    "format": pl.String(),  # the log format it was read as
    "raw": pl.String(),  # the line itself
    "reason": pl.String(),  # why it was rejected, for a person to read
}
BATCH_COLUMN = "batch_id"
_SUFFIX = ".jsonl"


def _existing(root: Path, batch_id: str) -> list[Path]:
    # Day folders are few (one per day kept), so this glob stays cheap.
    return sorted(root.glob(f"*/{batch_id}{_SUFFIX}")) if root.is_dir() else []


def write_rejects(
    rejects: pl.DataFrame, root: Path, batch_id: str, *, now: datetime | None = None
) -> int:
    """Write one batch's rejected lines; return how many were written.

    Missing columns are written as null rather than losing the line. Writing the
    same ``batch_id`` again replaces its file.
    """
    check_batch_id(batch_id)
    if rejects.is_empty():
        return 0
    frame = rejects.select(
        (pl.col(name).cast(dtype) if name in rejects.columns else pl.lit(None, dtype)).alias(name)
        for name, dtype in DEADLETTER_SCHEMA.items()
    )
    earlier = _existing(root, batch_id)
    day = as_utc(now or utcnow()).date().isoformat()
    target = earlier[0] if earlier else root / day / f"{batch_id}{_SUFFIX}"
    write_atomically(frame, target, "ndjson")
    for stale in earlier[1:]:
        stale.unlink(missing_ok=True)
    return frame.height


def empty_deadletter() -> pl.DataFrame:
    """Return an empty frame of dead letters, as ``read_rejects`` gives them."""
    return pl.DataFrame(schema={**DEADLETTER_SCHEMA, BATCH_COLUMN: pl.String()})


def read_rejects(root: Path) -> pl.DataFrame:
    """Read every dead letter under ``root``, oldest day first, with its ``batch_id``."""
    if not _has_files(root):
        return empty_deadletter()
    frame = pl.scan_ndjson(
        root / "*" / f"*{_SUFFIX}", schema=DEADLETTER_SCHEMA, include_file_paths="_path"
    ).collect()
    names = pl.col("_path").str.extract(r"([^/\\]+)/([^/\\]+)\.jsonl$", 2)
    days = pl.col("_path").str.extract(r"([^/\\]+)/[^/\\]+\.jsonl$", 1)
    return (
        frame.with_columns(names.alias(BATCH_COLUMN), days.alias("_day"))
        .sort("_day", BATCH_COLUMN, "line", maintain_order=True)
        .drop("_path", "_day")
    )


def _has_files(root: Path) -> bool:
    return root.is_dir() and next(root.glob(f"*/*{_SUFFIX}"), None) is not None
