"""The breached-password store: hashes and breach counts, memory-mapped, bucketed by prefix.

Layout of one generation (a folder; ``<root>/<mode>`` is a symlink to the current one):

* ``offsets.u32`` — 2**20 + 1 record indexes: bucket ``p`` (the hash's first 20 bits,
  its first five hex digits) holds records ``offsets[p]:offsets[p + 1]``.
* ``key_hi.u32``, ``key_lo.u8`` — the next 40 bits of each hash (bits 20–59), split
  into 32 + 8 bits; within a bucket the records are sorted by them.
* ``count.u8`` — each record's breach count on a logarithmic scale (exact up to 15,
  then steps of 8.4 %, up to 2**32), decoded to the smallest count of its step.

That index is what a lookup reads: 6 bytes per hash plus 4 MiB of offsets. With
20 + 40 = 60 bits of the hash kept, a password that is *not* in a store of N hashes
is taken for a breached one with probability N / 2**60 (1.7e-9 at 2 billion hashes,
about one false "breached" answer in 580 million checks of new passwords); a
password that is in the store is always found.

The range API must return whole suffixes and exact counts, which the index does not
keep, so each generation also holds ``tail.u8`` (the hash from its third byte on: 18
bytes for SHA-1, 14 for NTLM) and ``exact.u32``, read only to answer ``/range``.
Lookups never touch them; they cost another 22 (SHA-1) or 18 (NTLM) bytes per hash
on disk.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from bastion.core.errors import InputError, NotFoundError
from bastion.passwords.hashing import NTLM_BYTES, SHA1_BYTES

Mode = Literal["sha1", "ntlm"]
MODES: tuple[Mode, ...] = ("sha1", "ntlm")
DIGEST_BYTES: dict[Mode, int] = {"sha1": SHA1_BYTES, "ntlm": NTLM_BYTES}
PREFIX_BITS = 20
BUCKETS = 1 << PREFIX_BITS
KEY_BITS = 40
KEY_MASK = (1 << KEY_BITS) - 1
INDEX_BYTES_PER_HASH = 6
FORMAT = 1

# Breach counts in one byte: exact to 15, then 240 geometric steps up to 2**32.
_EXACT = 16
_STEP = 2 ** (28 / 240)
_STEP_FLOORS = np.ceil(_EXACT * _STEP ** np.arange(240)).astype(np.int64)


def _decoded_table() -> list[int]:
    codes = np.arange(256)
    decoded = np.where(codes < _EXACT, codes, _STEP_FLOORS[np.maximum(codes - _EXACT, 0)])
    return [int(v) for v in decoded]


_DECODED = _decoded_table()


def encode_counts(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
    """Return each count's one-byte code (exact below 16, logarithmic above)."""
    counts = np.asarray(counts, dtype=np.int64)
    steps = np.searchsorted(_STEP_FLOORS, counts, side="right") - 1 + _EXACT
    return np.where(counts < _EXACT, np.maximum(counts, 0), steps).astype(np.uint8)


def decode_counts(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """Return the smallest count each code stands for (never more than the count encoded)."""
    codes = np.asarray(codes, dtype=np.int64)
    return np.where(codes < _EXACT, codes, _STEP_FLOORS[np.maximum(codes - _EXACT, 0)])


def split_digests(
    digests: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Return each digest's bucket (first 20 bits) and key (next 40 bits)."""
    head = np.ascontiguousarray(digests[:, :8]).view(">u8").reshape(-1).astype(np.uint64)
    buckets = (head >> np.uint64(64 - PREFIX_BITS)).astype(np.int64)
    keys = ((head >> np.uint64(64 - PREFIX_BITS - KEY_BITS)) & np.uint64(KEY_MASK)).astype(np.int64)
    return buckets, keys


def parse_prefix(prefix: str) -> int:
    """Return the bucket of a five-hex-digit prefix, any case; InputError otherwise."""
    if len(prefix) != 5 or any(c not in "0123456789abcdefABCDEF" for c in prefix):
        msg = f"a range prefix is exactly five hex digits (0-9, A-F), not {prefix[:12]!r}"
        raise InputError(msg)
    return int(prefix, 16)


@dataclass(frozen=True)
class RangeRow:
    suffix: str
    count: int


class BreachStore:
    """One mode's store (SHA-1 or NTLM), memory-mapped read-only from its generation folder."""

    def __init__(self, folder: Path) -> None:
        meta_path = folder / "meta.json"
        if not meta_path.is_file():
            msg = f"{folder}: no breached-password store here (build one: bastion passwords build)"
            raise NotFoundError(msg)
        self.folder = folder.resolve()
        self.meta = json.loads(meta_path.read_text(encoding="utf-8"))
        self.mode: Mode = self.meta["mode"]
        self.records = int(self.meta["records"])
        self.digest_bytes = DIGEST_BYTES[self.mode]
        self.offsets = self._map("offsets.u32", np.uint32)
        self.key_hi = self._map("key_hi.u32", np.uint32)
        self.key_lo = self._map("key_lo.u8", np.uint8)
        self.count: npt.NDArray[np.uint8] = self._map("count.u8", np.uint8)
        self.tail = self._map("tail.u8", np.uint8).reshape(self.records, self.digest_bytes - 2)
        self.exact = self._map("exact.u32", np.uint32)
        sizes = np.diff(self.offsets.astype(np.int64))
        self._steps = int(np.ceil(np.log2(int(sizes.max()) + 1))) if self.records else 0

    def _map(self, name: str, dtype: type[np.generic]) -> npt.NDArray[Any]:
        path = self.folder / name
        if path.stat().st_size == 0:
            return np.zeros(0, dtype=dtype)
        return np.memmap(path, dtype=dtype, mode="r")

    @property
    def generation(self) -> str:
        return self.folder.name

    def index_bytes(self) -> int:
        """Bytes a lookup reads from: offsets, keys and coded counts."""
        return sum((self.folder / n).stat().st_size for n in INDEX_FILES)

    def range_bytes(self) -> int:
        """Bytes only the range API reads: whole suffixes and exact counts."""
        return sum((self.folder / n).stat().st_size for n in RANGE_FILES)

    def _keys(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        hi = self.key_hi[rows].astype(np.int64)
        return (hi << 8) | self.key_lo[rows].astype(np.int64)

    def lookup_one(self, digest: bytes) -> int:
        """Return the breach count of one digest (its step's smallest count); 0 when absent.

        One bucket seek and ``numpy.searchsorted`` over the bucket's 32-bit keys, with
        no array built per call: the path of a single password check.
        """
        if len(digest) != self.digest_bytes:
            msg = f"a digest here is {self.digest_bytes} bytes, not {len(digest)}"
            raise InputError(msg)
        head = int.from_bytes(digest[:8], "big")
        bucket = head >> (64 - PREFIX_BITS)
        key = (head >> (64 - PREFIX_BITS - KEY_BITS)) & KEY_MASK
        hi, lo = key >> 8, key & 0xFF
        start, end = int(self.offsets[bucket]), int(self.offsets[bucket + 1])
        his = self.key_hi[start:end]
        at = start + int(np.searchsorted(his, hi))
        while at < end and int(self.key_hi[at]) == hi:  # equal high parts: rare, sorted by low
            if int(self.key_lo[at]) == lo:
                return _DECODED[int(self.count[at])]
            at += 1
        return 0

    def lookup(self, digests: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
        """Return the breach count of each digest (0 when absent), by one vectorised search."""
        buckets, keys = split_digests(digests)
        lo = self.offsets[buckets].astype(np.int64)
        end = self.offsets[buckets + 1].astype(np.int64)
        hi = end.copy()
        if self.records == 0:
            return np.zeros(len(keys), dtype=np.int64)
        last = self.records - 1
        for _ in range(self._steps):  # binary search in every query's bucket at once
            mid = (lo + hi) >> 1
            below = self._keys(np.minimum(mid, last)) < keys
            active = lo < hi
            lo = np.where(active & below, mid + 1, lo)
            hi = np.where(active & ~below, mid, hi)
        at = np.minimum(lo, last)
        found = (lo < end) & (self._keys(at) == keys)
        return np.where(found, decode_counts(self.count[at]), 0)

    def range(self, prefix: str) -> list[RangeRow]:
        """Return every suffix of a five-hex-digit prefix with its exact count, sorted."""
        bucket = parse_prefix(prefix)
        start, end = int(self.offsets[bucket]), int(self.offsets[bucket + 1])
        width = 2 * (self.digest_bytes - 2)
        text = self.tail[start:end].tobytes().hex().upper()
        counts = self.exact[start:end].tolist()
        return [
            RangeRow(text[i * width + 1 : (i + 1) * width], int(c)) for i, c in enumerate(counts)
        ]


INDEX_FILES = ("offsets.u32", "key_hi.u32", "key_lo.u8", "count.u8")
RANGE_FILES = ("tail.u8", "exact.u32")


def padded(rows: list[RangeRow], mode: Mode, *, low: int = 800, high: int = 1000) -> list[RangeRow]:
    """Return ``rows`` with random zero-count suffixes added up to 800–1,000 rows, sorted."""
    target = max(len(rows), low + secrets.randbelow(high - low + 1))
    width = 2 * DIGEST_BYTES[mode] - 5
    seen = {r.suffix for r in rows}
    extra: list[RangeRow] = []
    while len(rows) + len(extra) < target:
        suffix = secrets.token_hex(width // 2 + 1).upper()[:width]
        if suffix not in seen:
            seen.add(suffix)
            extra.append(RangeRow(suffix, 0))
    return sorted([*rows, *extra], key=lambda r: r.suffix)


def open_store(root: Path, mode: Mode) -> BreachStore:
    """Open the current generation of ``mode``'s store under ``root``."""
    return BreachStore(root / mode)


class Stores:
    """The current store of each mode under ``root``, reopened when a build swaps a new one in."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._open: dict[Mode, BreachStore] = {}

    def get(self, mode: Mode) -> BreachStore:
        """Return ``mode``'s current store (NotFoundError when none was built)."""
        link = self.root / mode
        try:
            target = link.readlink().name
        except OSError:
            msg = f"no {mode} breached-password store in {self.root} (bastion passwords build)"
            raise NotFoundError(msg) from None
        held = self._open.get(mode)
        if held is None or held.generation != target:
            held = self._open[mode] = BreachStore(link)
        return held
