"""Reading a file source on from where its checkpoint says: its earlier self, its line
numbers, its header lines, its year.

``Pipeline.ingest_file`` resumes a file at the checkpoint's byte offset; these helpers
find that checkpoint when the file has grown past its fingerprint, number the resumed
run's lines as the whole file would, and prime the parser with the header lines a
format needs (Zeek's ``#fields``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from bastion.boundary.checkpoints import Checkpoint, list_sources
from bastion.boundary.lines import count_lines
from bastion.boundary.parsers import ParseContext, Parser
from bastion.boundary.sources import (
    FINGERPRINT_BYTES,
    Chunk,
    fingerprint,
    open_source,
    sample_lines,
)


def numbered(chunks: Iterable[Chunk], line: int = 1) -> Iterator[tuple[int, Chunk]]:
    """Pair each chunk with the line number its first line has in the source."""
    for chunk in chunks:
        yield line, chunk
        line += count_lines(chunk.data) + (0 if chunk.data.endswith(b"\n") else 1)


def smaller_self(session: Session, path: Path) -> Checkpoint | None:
    """Find this file's checkpoint from when it was shorter than its fingerprint.

    A file under 4 KiB is known by all of its content, so once it grows its
    fingerprint changes; its earlier self is the checkpoint of the same path whose
    key is the fingerprint of the bytes it had then.
    """
    earlier = (
        known
        for known in list_sources(session)
        if known.path == str(path) and known.offset < FINGERPRINT_BYTES
    )
    return next((known for known in earlier if fingerprint(path, known.offset) == known.key), None)


def other_format(checkpoint: Checkpoint, fmt: str) -> str:
    """Say in one line why a source read as one format is not read again as ``fmt``."""
    how = "already ingested" if checkpoint.done else "partly ingested"
    return (
        f"{how} as {checkpoint.format} on {checkpoint.updated_at:%Y-%m-%d}; to read it again "
        f"as {fmt}, forget it first: `bastion boundary forget {checkpoint.key}`"
    )


def lines_before(path: Path, offset: int) -> int:
    """Count the lines in the first ``offset`` bytes of a source (to number a resumed run's lines)."""
    count = 0
    with open_source(path) as stream:
        while offset > 0:
            block = stream.read(min(offset, 8 << 20))
            if not block:
                break
            count += count_lines(block)
            offset -= len(block)
    return count


def file_time(path: Path) -> datetime:
    """Return when ``path`` was last written: its syslog dates without a year are before."""
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def header_lines(path: Path) -> list[str]:
    """Return a source's leading ``#`` header lines (Zeek ``#fields`` and the like)."""
    header = []
    for line in sample_lines(path, 64):
        if not line.startswith("#"):
            break
        header.append(line)
    return header


def prime(parser: Parser, ctx: ParseContext, path: Path) -> None:
    """Feed a resumed parser the header lines its format needs to read later lines."""
    header = header_lines(path)
    if header:
        parser.parse(pl.Series("line", header, dtype=pl.String), ctx)
