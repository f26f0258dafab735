"""Read the store's inputs: HIBP downloader output and plain password lists, in chunks.

HIBP's downloader writes either one file of ``HASH:COUNT`` lines (40 hex digits for
SHA-1, 32 for NTLM) or one file per five-hex-digit prefix (``ABCDE.txt``) of
``SUFFIX:COUNT`` lines. Those are parsed without a Python loop per line: the chunk's
newlines are found with numpy and each line's hex and digits gathered into arrays.
A plain list is one password per line, hashed on import (SHA-1 and NTLM); each
password counts once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from bastion.core.errors import InputError
from bastion.passwords.hashing import hex_decode, ntlm_many, sha1_many
from bastion.passwords.store import Mode

Kind = Literal["hibp", "plain"]
CHUNK_BYTES = 32 << 20
MAX_COUNT = (1 << 32) - 1
_HIBP_LINE = re.compile(rb"^[0-9A-Fa-f]{27,40}:[0-9]{1,10}\r?$")
_HEX_LENGTHS: dict[int, Mode] = {40: "sha1", 32: "ntlm"}


@dataclass(frozen=True)
class Batch:
    """Digests of one mode with their counts, ready to spill."""

    mode: Mode
    digests: npt.NDArray[np.uint8]
    counts: npt.NDArray[np.int64]


@dataclass
class ReadReport:
    """What reading the sources skipped: how many lines, and the first few by file and number."""

    lines: int = 0
    skipped: int = 0
    first_bad: list[str] | None = None

    def bad(self, where: str, count: int) -> None:
        self.skipped += count
        self.first_bad = (self.first_bad or []) + ([where] if len(self.first_bad or []) < 5 else [])


def detect_kind(path: Path) -> Kind:
    """Tell HIBP output (a folder, or ``HEX:COUNT`` lines) from a plain password list."""
    if path.is_dir():
        return "hibp"
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                return "hibp" if _HIBP_LINE.match(line.rstrip(b"\n")) else "plain"
    return "plain"


def read_source(
    path: Path, kind: Kind, report: ReadReport, *, skip_lines: int = 0
) -> Iterator[Batch]:
    """Yield the digests of one source (file or folder) in batches."""
    if not path.exists():
        msg = f"{path}: no such file or folder"
        raise InputError(msg)
    if kind == "plain":
        yield from _read_plain(path, report, skip_lines)
    elif path.is_dir():
        for file in sorted(path.iterdir()):
            prefix = file.stem.upper()
            if file.is_file() and re.fullmatch(r"[0-9A-F]{5}", prefix):
                yield from _read_hibp(file, report, prefix.encode())
    else:
        yield from _read_hibp(path, report, b"")


def _chunks(path: Path, skip_lines: int) -> Iterator[tuple[int, bytes]]:
    """Yield (number of the chunk's first line, whole lines) of a file, ~32 MiB at a time."""
    line = 1
    rest = b""
    with path.open("rb") as handle:
        for _ in range(skip_lines):
            if not handle.readline():
                return
            line += 1
        while block := handle.read(CHUNK_BYTES):
            data = rest + block
            cut = data.rfind(b"\n") + 1
            if cut:
                yield line, data[:cut]
                line += data.count(b"\n", 0, cut)
                rest = data[cut:]
            else:
                rest = data
        if rest:
            yield line, rest + b"\n"


def _read_plain(path: Path, report: ReadReport, skip_lines: int) -> Iterator[Batch]:
    for first, chunk in _chunks(path, skip_lines):
        passwords: list[str] = []
        for offset, raw in enumerate(chunk.split(b"\n")[:-1]):
            text = raw.removesuffix(b"\r")
            if not text:
                continue
            try:
                passwords.append(text.decode("utf-8"))
            except UnicodeDecodeError:
                report.bad(f"{path.name}:{first + offset} (not UTF-8)", 1)
        report.lines += len(passwords)
        ones = np.ones(len(passwords), dtype=np.int64)
        yield Batch("sha1", sha1_many(passwords), ones)
        yield Batch("ntlm", ntlm_many(passwords), ones)


def _read_hibp(path: Path, report: ReadReport, prefix: bytes) -> Iterator[Batch]:
    for first, chunk in _chunks(path, 0):
        # A per-prefix file's lines are suffixes: put the prefix back in front of each.
        text = (prefix + chunk.replace(b"\n", b"\n" + prefix))[: -len(prefix)] if prefix else chunk
        yield from _parse_hibp(text, path, first, report)


def _parse_hibp(data: bytes, path: Path, first: int, report: ReadReport) -> Iterator[Batch]:
    """Parse whole ``HEX:COUNT`` lines of one hex width per mode, vectorised."""
    buf = np.frombuffer(data + b"\0" * 64, dtype=np.uint8)
    ends = np.flatnonzero(buf[: len(data)] == ord("\n"))
    starts = np.concatenate(([0], ends[:-1] + 1))
    stops = ends - (buf[np.maximum(ends - 1, 0)] == ord("\r"))
    colon = _first_colon(buf, starts)
    width = colon - starts
    blank = stops == starts
    report.lines += int((~blank).sum())
    handled = blank.copy()
    for hex_width, mode in _HEX_LENGTHS.items():
        rows = np.flatnonzero(width == hex_width)
        if not len(rows):
            continue
        text = buf[starts[rows, None] + np.arange(hex_width)]
        digests, valid = hex_decode(text)
        counts, numeric = _digits(buf, colon[rows] + 1, stops[rows])
        good = valid & numeric
        handled[rows[good]] = True
        if good.any():
            yield Batch(mode, digests[good], counts[good])
    bad = np.flatnonzero(~handled)
    if len(bad):
        report.bad(f"{path.name}:{first + int(bad[0])}", len(bad))


def _first_colon(
    buf: npt.NDArray[np.uint8], starts: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Return where each line's colon is (after 40 or 32 hex digits), or the line's start."""
    found = starts.copy()
    for hex_width in sorted(_HEX_LENGTHS, reverse=True):
        hit = buf[starts + hex_width] == ord(":")
        found = np.where(hit & (found == starts), starts + hex_width, found)
    return found


def _digits(
    buf: npt.NDArray[np.uint8], begin: npt.NDArray[np.int64], end: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Return the decimal numbers between begin and end (1–10 digits each), and which were."""
    lengths = end - begin
    window = buf[begin[:, None] + np.arange(10)].astype(np.int64) - ord("0")
    inside = np.arange(10) < lengths[:, None]
    ok = (lengths >= 1) & (lengths <= 10) & ~(inside & ((window < 0) | (window > 9))).any(axis=1)
    powers = 10 ** np.clip(lengths[:, None] - 1 - np.arange(10), 0, None)
    values = (np.where(inside, window, 0) * np.where(inside, powers, 0)).sum(axis=1)
    return np.minimum(values, MAX_COUNT), ok
