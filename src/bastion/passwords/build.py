"""Build the breached-password store beside the current one, then swap it in atomically.

A build runs in three phases inside ``<root>/.build``:

1. *spill* — every source is read in chunks and its digests appended to 256 files
   per mode, by the digest's first byte (memory: one chunk at a time; 24 bytes a
   SHA-1 hash on disk);
2. *sort* — each of those partitions (with, for an update, the same partition of
   the current store) is loaded, sorted, its duplicates merged (a hash's count is
   the highest any source gives, so re-running an update changes nothing) and
   appended to the new generation's files; ``build.json`` records each finished
   partition and the files' sizes, and the partition's spill file is deleted, so
   the disk a build needs stays near the larger of the spill and the store;
3. *swap* — the generation folder is renamed to ``<mode>-<stamp>`` and the
   ``<mode>`` symlink replaced by one pointing at it (``os.replace``: readers see the
   old store or the new, never half of one; a reader that has the old one mapped
   keeps reading it).

An interrupted build resumes: run the same command again. Finished partitions are
kept (files are cut back to the sizes ``build.json`` recorded), an unfinished spill
starts over, and a build given different sources starts over from scratch.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from bastion.core.errors import InputError
from bastion.passwords.sources import Batch, Kind, ReadReport, detect_kind, read_source
from bastion.passwords.store import (
    BUCKETS,
    DIGEST_BYTES,
    FORMAT,
    HEAD_BYTES,
    MODES,
    BreachStore,
    Mode,
    encode_counts,
    split_digests,
)

PARTITIONS = 256
BUCKETS_PER_PARTITION = BUCKETS // PARTITIONS  # a partition (first byte) is whole buckets
MAX_RECORDS = (1 << 32) - 1


@dataclass(frozen=True)
class Source:
    """One input: a file or a folder of HIBP output, or a plain password list."""

    path: Path
    kind: Kind
    skip_lines: int = 0


@dataclass
class BuildResult:
    records: dict[str, int] = field(default_factory=dict)
    generations: dict[str, str] = field(default_factory=dict)
    lines: int = 0
    skipped: int = 0
    first_bad: list[str] = field(default_factory=list)
    resumed: bool = False


def source(path: Path, kind: Kind | None = None, *, skip_lines: int = 0) -> Source:
    """Return a source, telling its kind from its content unless given."""
    if not path.exists():
        msg = f"{path}: no such file or folder"
        raise InputError(msg)
    return Source(path, kind or detect_kind(path), skip_lines)


def _fingerprint(sources: Sequence[Source], bases: dict[str, str]) -> dict[str, Any]:
    items = []
    for s in sources:
        stat = s.path.stat()
        items.append([str(s.path.resolve()), s.kind, s.skip_lines, stat.st_size, stat.st_mtime_ns])
    return {"format": FORMAT, "sources": items, "bases": bases}


def _current(root: Path, mode: Mode) -> BreachStore | None:
    link = root / mode
    return BreachStore(link) if (link / "meta.json").is_file() else None


class Builder:
    """One build (or update) of the store under ``root``; ``run`` does it, resuming if it can."""

    def __init__(
        self,
        root: Path,
        sources: Sequence[Source],
        *,
        update: bool = False,
        crash_after_partitions: int | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        stream: tuple[str, Callable[[], Iterator[Batch]]] | None = None,
    ) -> None:
        """``stream``: a name and a function giving digests already made (the benchmark's
        generated corpus), spilled after the sources; a resume needs the same name."""
        self.root = root
        self.sources = list(sources)
        self.stream = stream
        self.update = update
        self.work = root / ".build"
        self.clock = clock
        self._crash_after = crash_after_partitions  # tests interrupt a build here
        self.bases: dict[str, BreachStore] = {}
        if update:
            for mode in MODES:
                current = _current(root, mode)
                if current is not None:
                    self.bases[mode] = current
        bases = {m: s.generation for m, s in self.bases.items()}
        self.fingerprint = _fingerprint(self.sources, bases)
        self.fingerprint["stream"] = stream[0] if stream else None
        self.state: dict[str, Any] = {}

    def run(self) -> BuildResult:
        result = BuildResult()
        self.root.mkdir(parents=True, exist_ok=True)
        manifest = self.work / "build.json"
        if manifest.is_file():
            saved = json.loads(manifest.read_text(encoding="utf-8"))
            if saved.get("fingerprint") == self.fingerprint and saved.get("spilled"):
                self.state = saved
                result.resumed = True
        if not result.resumed:
            shutil.rmtree(self.work, ignore_errors=True)
            self.work.mkdir(parents=True)
            self.state = {"fingerprint": self.fingerprint, "spilled": False, "modes": {}}
            report = self._spill()
            self.state.update(
                spilled=True, lines=report.lines, skipped=report.skipped, bad=report.first_bad or []
            )
            self._save()
        result.lines = int(self.state["lines"])
        result.skipped = int(self.state["skipped"])
        result.first_bad = list(self.state["bad"])
        built = [mode for mode in MODES if self._has_input(mode)]
        for mode in built:
            result.records[mode] = self._sort(mode)
        for mode in built:
            result.generations[mode] = self._swap(mode)
        shutil.rmtree(self.work, ignore_errors=True)
        return result

    def _save(self) -> None:
        tmp = self.work / "build.json.tmp"
        tmp.write_text(json.dumps(self.state), encoding="utf-8")
        tmp.replace(self.work / "build.json")

    def _spill_path(self, mode: Mode, partition: int) -> Path:
        return self.work / "spill" / mode / f"{partition:02x}.bin"

    def _has_input(self, mode: Mode) -> bool:
        return mode in self.bases or (self.work / "spill" / mode).is_dir()

    def _spill(self) -> ReadReport:
        report = ReadReport()
        for s in self.sources:
            for batch in read_source(s.path, s.kind, report, skip_lines=s.skip_lines):
                self._spill_batch(batch)
        if self.stream is not None:
            for batch in self.stream[1]():
                report.lines += len(batch.counts)
                self._spill_batch(batch)
        return report

    def _spill_batch(self, batch: Batch) -> None:
        if not len(batch.counts):
            return
        width = DIGEST_BYTES[batch.mode]
        records = np.empty((len(batch.counts), width + 4), dtype=np.uint8)
        records[:, :width] = batch.digests
        records[:, width:] = batch.counts.astype("<u4").view(np.uint8).reshape(-1, 4)
        order = np.argsort(batch.digests[:, 0], kind="stable")  # a radix sort of one byte
        ordered = _rows(records)[order]
        sizes = np.bincount(batch.digests[:, 0], minlength=PARTITIONS)
        folder = self.work / "spill" / batch.mode
        folder.mkdir(parents=True, exist_ok=True)
        start = 0
        for partition in np.flatnonzero(sizes):
            end = start + int(sizes[partition])
            with self._spill_path(batch.mode, int(partition)).open("ab") as handle:
                handle.write(ordered[start:end].tobytes())
            start = end

    def _partition(
        self, mode: Mode, partition: int
    ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
        """Return one partition's digests and counts, from the spill and the base store."""
        width = DIGEST_BYTES[mode]
        parts: list[npt.NDArray[np.uint8]] = []
        counts: list[npt.NDArray[np.int64]] = []
        path = self._spill_path(mode, partition)
        if path.is_file():
            raw = np.fromfile(path, dtype=np.uint8).reshape(-1, width + 4)
            parts.append(raw[:, :width])
            counts.append(
                np.ascontiguousarray(raw[:, width:]).view("<u4").reshape(-1).astype(np.int64)
            )
        base = self.bases.get(mode)
        if base is not None and base.records:
            low = partition * BUCKETS_PER_PARTITION
            first = int(base.offsets[low])
            last = int(base.offsets[low + BUCKETS_PER_PARTITION])
            if last > first:
                parts.append(base.digests(low, low + BUCKETS_PER_PARTITION))
                counts.append(base.exact[first:last].astype(np.int64))
        if not parts:
            return np.zeros((0, width), dtype=np.uint8), np.zeros(0, dtype=np.int64)
        return np.concatenate(parts), np.concatenate(counts)

    def _sort(self, mode: Mode) -> int:
        """Sort and merge every partition of ``mode`` into the new generation; return its size."""
        out = self.work / f"{mode}.new"
        out.mkdir(exist_ok=True)
        names = ("key.u32", "count.u8", "rest.u8", "exact.u32", "buckets.u32")
        progress = self.state["modes"].setdefault(
            mode, {"done": 0, "sizes": dict.fromkeys(names, 0)}
        )
        handles: dict[str, BinaryIO] = {}
        for name in names:
            handles[name] = (out / name).open("ab")
            handles[name].truncate(progress["sizes"][name])  # what an interrupted partition wrote
        try:
            for partition in range(progress["done"], PARTITIONS):
                if self._crash_after is not None and partition >= self._crash_after:
                    msg = f"build interrupted before partition {partition} (test)"
                    raise InterruptedError(msg)
                self._write_partition(mode, partition, handles)
                for name, written in handles.items():
                    written.flush()
                    progress["sizes"][name] = written.tell()
                progress["done"] = partition + 1
                self._save()
                self._spill_path(mode, partition).unlink(missing_ok=True)
        finally:
            for written in handles.values():
                written.close()
        records = progress["sizes"]["exact.u32"] // 4
        if records > MAX_RECORDS:
            msg = f"{records:,} hashes is more than one store holds ({MAX_RECORDS:,})"
            raise InputError(msg)
        bucket_sizes = np.fromfile(out / "buckets.u32", dtype="<u4")
        offsets = np.zeros(BUCKETS + 1, dtype="<u4")
        np.cumsum(bucket_sizes, out=offsets[1:])
        offsets.tofile(out / "offsets.u32")
        (out / "buckets.u32").unlink()
        meta = {
            "format": FORMAT,
            "mode": mode,
            "records": records,
            "built": self.clock().isoformat(),
        }
        (out / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        return int(records)

    def _write_partition(self, mode: Mode, partition: int, handles: dict[str, BinaryIO]) -> None:
        digests, counts = self._partition(mode, partition)
        if len(counts):
            digests, counts = _sorted_unique(digests, counts)
        buckets, keys = split_digests(digests)
        local = buckets - partition * BUCKETS_PER_PARTITION
        sizes = np.bincount(local, minlength=BUCKETS_PER_PARTITION).astype("<u4")
        handles["buckets.u32"].write(sizes.tobytes())
        handles["key.u32"].write(keys.astype("<u4").tobytes())
        handles["count.u8"].write(encode_counts(counts).tobytes())
        handles["rest.u8"].write(np.ascontiguousarray(digests[:, HEAD_BYTES:]).tobytes())
        handles["exact.u32"].write(counts.astype("<u4").tobytes())

    def _swap(self, mode: Mode) -> str:
        stamp = self.clock().strftime("%Y%m%dT%H%M%S%f")
        generation = self.root / f"{mode}-{stamp}"
        (self.work / f"{mode}.new").replace(generation)
        link = self.root / mode
        old = link.resolve() if link.is_symlink() else None
        tmp = self.root / f".{mode}.link"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(generation.name)
        tmp.replace(link)
        if old is not None and old != generation:
            shutil.rmtree(old, ignore_errors=True)  # a reader with it mapped keeps its pages
        return generation.name


def _sorted_unique(
    digests: npt.NDArray[np.uint8], counts: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """Return the digests sorted and each once, with the highest count any copy had.

    One sort of the first 8 bytes as a 64-bit number; only the runs of records whose
    first 8 bytes are equal (copies of one hash, or the rare near miss) are sorted
    again by the whole digest.
    """
    padded = np.zeros((len(counts), 24), dtype=np.uint8)
    padded[:, : digests.shape[1]] = digests
    columns = padded.view(">u8")
    order = np.argsort(columns[:, 0])
    columns = columns[order]
    tied = np.zeros(len(order), dtype=bool)
    tied[1:] = columns[1:, 0] == columns[:-1, 0]
    tied[:-1] |= tied[1:]
    if tied.any():
        rows = np.flatnonzero(tied)
        sub = columns[rows]
        again = np.lexsort((sub[:, 2], sub[:, 1], sub[:, 0]))
        order[rows] = order[rows[again]]
        columns[rows] = sub[again]
    digests = _rows(digests)[order].view(np.uint8).reshape(len(order), -1)
    counts = counts[order]
    new = np.ones(len(counts), dtype=bool)
    new[1:] = (columns[1:] != columns[:-1]).any(axis=1)
    starts = np.flatnonzero(new)
    return digests[starts], np.maximum.reduceat(counts, starts)


def _rows(table: npt.NDArray[np.uint8]) -> npt.NDArray[np.void]:
    """Return a 2-D byte table as one item a row, so that gathering rows is one copy each."""
    table = np.ascontiguousarray(table)
    return table.view(f"V{table.shape[1]}").reshape(-1)
