"""Where raw log bytes come from: files (plain, gzip, zstd), directories, stdin, followed files.

Sources hand out chunks of complete lines with the byte offset each chunk starts
at. Chunk boundaries depend only on the start offset and the content, so a run
resumed from a checkpoint cuts the same chunks as the run that crashed, and a
re-processed chunk gets the same batch id (every sink is idempotent by it).
"""

from __future__ import annotations

import gzip
import hashlib
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

import zstandard

from bastion.core.errors import InputError, Location

# Bytes of lines handed to the pipeline at once. Under 32 MB: glibc serves smaller
# blocks again from its heap, while each 32 MB one is a fresh mapping to fault in.
CHUNK_SIZE = 24 << 20
FINGERPRINT_BYTES = 4096
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


@dataclass(frozen=True)
class Chunk:
    """Complete lines of a source, starting at byte ``offset`` of its (decompressed) content."""

    data: bytes
    offset: int

    @property
    def end(self) -> int:
        return self.offset + len(self.data)


# What reading a source can raise when the source itself is at fault, not Bastion.
UNREADABLE = (InputError, OSError, EOFError, zlib.error, zstandard.ZstdError)


def unreadable_reason(exc: BaseException, path: Path, read: int = 0) -> str:
    """Say in one line why ``path`` could not be read (after ``read`` bytes, if any)."""
    if isinstance(exc, InputError):
        text = exc.reason.removeprefix(f"{path}: ")
    elif isinstance(exc, OSError):
        text = f"cannot read: {exc.strerror or exc}"
    elif isinstance(exc, EOFError):
        text = f"compressed data ends early ({exc})"
    else:
        text = f"corrupt compressed data ({exc})"
    return f"stopped after {read} bytes: {text}" if read else text


def compression(path: Path) -> str:
    """Name the compression of ``path`` from its first bytes: gzip, zstd or none."""
    with path.open("rb") as raw:
        head = raw.read(4)
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


def open_source(path: Path) -> BinaryIO:
    """Open ``path`` for reading its decompressed bytes; raise InputError if it cannot be read."""
    try:
        kind = compression(path)
        if kind == "gzip":
            return cast(BinaryIO, gzip.open(path, "rb"))
        if kind == "zstd":
            stream: BinaryIO = zstandard.ZstdDecompressor().stream_reader(
                path.open("rb"), closefd=True
            )
            return stream
        return path.open("rb")
    except OSError as exc:
        msg = f"cannot read: {exc.strerror or exc}"
        raise InputError(msg, Location(str(path))) from None


def fingerprint(path: Path, length: int = FINGERPRINT_BYTES) -> str:
    """Identify a source by its first 4 KiB of content, whatever its name or compression.

    The same log ingested twice — copied, renamed or compressed since — is the same
    source, so it is not ingested twice; a file that grew keeps its identity and
    resumes where it stopped.
    """
    with open_source(path) as stream:
        head = stream.read(min(length, FINGERPRINT_BYTES))
    return hashlib.sha256(head).hexdigest()[:32]


def _skip(stream: BinaryIO, count: int) -> None:
    if count <= 0:
        return
    if stream.seekable():
        stream.seek(count)
        return
    while count > 0:  # decompressing streams cannot seek: read and discard
        block = stream.read(min(count, CHUNK_SIZE))
        if not block:
            return
        count -= len(block)


def read_chunks(
    stream: BinaryIO, *, start: int = 0, chunk_size: int = CHUNK_SIZE
) -> Iterator[Chunk]:
    """Yield chunks of complete lines from ``stream`` beginning at byte ``start``.

    The last line of the stream counts even without a trailing newline. A line
    longer than ``chunk_size`` makes its chunk longer, never splits it.
    """
    _skip(stream, start)
    offset, pending = start, b""
    while True:
        # Each chunk is the first ``chunk_size`` bytes from its own offset, cut after the
        # last newline, so where chunks fall depends on content alone, not on read history.
        block = stream.read(max(chunk_size - len(pending), 0))
        cut = block.rfind(b"\n") + 1  # the pending tail holds no newline
        while block and not cut:
            more = stream.read(chunk_size)
            if not more:
                break
            block += more
            cut = block.rfind(b"\n") + 1
        if not block and not pending:
            return
        cut = cut or len(block)
        # One copy of the chunk: its start from before, its body as a view of this read.
        data = (
            b"".join((pending, memoryview(block)[:cut])) if pending or cut < len(block) else block
        )
        yield Chunk(data, offset)
        offset += len(data)
        pending = block[cut:]


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Return the files named, with directories expanded recursively (sorted, hidden files skipped)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p for p in sorted(path.rglob("*")) if p.is_file() and not p.name.startswith(".")
            )
        elif path.is_file():
            files.append(path)
        else:
            msg = "no such file or directory"
            raise InputError(msg, Location(str(path)))
    return files


def sample_lines(path: Path, count: int = 20) -> list[str]:
    """Return the first ``count`` non-blank lines of ``path`` (decompressed), for format detection."""
    with open_source(path) as stream:
        head = stream.read(256 * 1024)
    text = head.decode("utf-8", errors="replace")
    return [line for line in text.splitlines() if line.strip()][:count]


def stdin_chunks(chunk_size: int = CHUNK_SIZE) -> Iterator[Chunk]:
    """Yield chunks of complete lines from standard input."""
    return read_chunks(sys.stdin.buffer, chunk_size=chunk_size)


def follow(
    path: Path,
    *,
    start: int = 0,
    poll: float = 0.5,
    chunk_size: int = CHUNK_SIZE,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[tuple[int, Chunk]]:
    """Follow ``path`` like ``tail -F``: yield (generation, chunk) as lines are appended.

    A rotated file (new inode) or a truncated one (smaller than what was read)
    starts a new generation read from its beginning; a line is only handed out
    once its newline has arrived.
    """
    generation, offset, pending = 0, start, b""
    handle: BinaryIO | None = None
    inode = None
    while not should_stop():
        try:
            stat = path.stat()
        except FileNotFoundError:
            time.sleep(poll)  # between a rotation's rename and the new file's creation
            continue
        if handle is None or stat.st_ino != inode or stat.st_size < offset:
            if handle is not None:
                generation, offset, pending = generation + 1, 0, b""
                handle.close()
            handle, inode = path.open("rb"), stat.st_ino
            handle.seek(offset)
        block = handle.read(chunk_size)
        if not block:
            time.sleep(poll)
            continue
        data = pending + block
        cut = data.rfind(b"\n") + 1
        if cut:
            yield generation, Chunk(data[:cut], offset)
            offset += cut
        pending = data[cut:]
    if handle is not None:
        handle.close()
