"""The breached-password store: hashes and breach counts, memory-mapped, bucketed by prefix.

Layout of one generation (a folder; ``<root>/<mode>`` is a symlink to the current one).
The *index* is all a lookup reads, 5 bytes a hash plus 4 MiB:

* ``offsets.u32`` — 2**20 + 1 record indexes: bucket ``p`` (the hash's first 20 bits,
  its first five hex digits) holds records ``offsets[p]:offsets[p + 1]``. The bucket
  is where a record is, so its 20 bits are never stored.
* ``key.u32`` — the next 32 bits of each hash (bits 20–51); within a bucket the
  records are sorted by the whole hash, so by these keys.
* ``count.u8`` — each record's breach count on a logarithmic scale (exact up to 15,
  then steps of 8.4 %, up to 2**32), decoded to the smallest count of its step.

With 20 + 32 = 52 bits of the hash kept, a hash that is *not* in a store of N hashes
matches a record with probability N / 2**52: 2.2e-7 at 1 billion hashes (one in 4.5
million), 4.4e-7 at 2 billion. ``lookup`` and ``lookup_one`` answer from the index
alone, with that rate of false "breached" answers; ``lookup_one(exact=True)`` (the
path of a password check) confirms a match against the range data below, so a check
never refuses a password by a false match and compares the policy with the exact
count. A hash that is in the store is always found.

The range API must return whole suffixes and exact counts, which the index does not
keep, so each generation also holds the *range data*, read only to answer ``/range``
and to confirm a check's match:

* ``rest.u8`` — the hash from its seventh byte on (bits 48 onward: 14 bytes for SHA-1,
  10 for NTLM; its first four bits repeat the key's last four);
* ``exact.u32`` — the exact count.

That is another 18 (SHA-1) or 14 (NTLM) bytes a hash on disk; a range answer is the
bucket's keys and rests side by side, one seek in each file.
"""

from __future__ import annotations

import json
import threading
from bisect import bisect_left
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
KEY_BITS = 32
KEY_MASK = (1 << KEY_BITS) - 1
HEAD_BYTES = 6  # bytes of a hash the bucket and the key hold (48 of their 52 bits)
INDEX_BYTES_PER_HASH = 5
FORMAT = 2

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
        if self.meta.get("format") != FORMAT:
            msg = f"{folder}: a store of an older format; build it again (bastion passwords build)"
            raise NotFoundError(msg)
        self.mode: Mode = self.meta["mode"]
        self.records = int(self.meta["records"])
        self.digest_bytes = DIGEST_BYTES[self.mode]
        self.offsets = self._map("offsets.u32", np.uint32)
        self.key = self._map("key.u32", np.uint32)
        self.count: npt.NDArray[np.uint8] = self._map("count.u8", np.uint8)
        rest = self._map("rest.u8", np.uint8)
        self.rest = rest.reshape(self.records, self.digest_bytes - HEAD_BYTES)
        self.exact = self._map("exact.u32", np.uint32)
        self._rest_rows = rest.view(f"V{self.digest_bytes - HEAD_BYTES}").reshape(-1)
        # Plain-Python views for the one-at-a-time path: no numpy call per lookup.
        self._offsets_view = self.offsets.data.cast("B").cast("I")
        self._key_view = self.key.data.cast("B").cast("I")
        self._count_view = self.count.data
        sizes = np.diff(self.offsets.astype(np.int64))
        self._steps = int(np.ceil(np.log2(int(sizes.max()) + 1))) if self.records else 0

    def _map(self, name: str, dtype: type[np.generic]) -> npt.NDArray[Any]:
        path = self.folder / name
        if path.stat().st_size == 0:
            return np.zeros(0, dtype=dtype)
        # A plain array over the mapping: slicing a np.memmap costs microseconds a call.
        return np.memmap(path, dtype=dtype, mode="r").view(np.ndarray)

    @property
    def generation(self) -> str:
        return self.folder.name

    def index_bytes(self) -> int:
        """Bytes a lookup reads from: offsets, keys and coded counts."""
        return sum((self.folder / n).stat().st_size for n in INDEX_FILES)

    def range_bytes(self) -> int:
        """Bytes only the range API (and a check's confirmation) reads: rests and exact counts."""
        return sum((self.folder / n).stat().st_size for n in RANGE_FILES)

    def lookup_one(self, digest: bytes, *, exact: bool = False) -> int:
        """Return the breach count of one digest; 0 when absent.

        One bucket seek and a binary search (``bisect``) over the bucket's keys, read
        through memory views: no array built and no numpy call per lookup. From the index alone the count is its step's smallest and a
        false match is possible (see the module); ``exact`` confirms a match against
        the range data and returns the exact count.
        """
        if len(digest) != self.digest_bytes:
            msg = f"a digest here is {self.digest_bytes} bytes, not {len(digest)}"
            raise InputError(msg)
        head = int.from_bytes(digest[:8], "big")
        bucket = head >> (64 - PREFIX_BITS)
        key = (head >> (64 - PREFIX_BITS - KEY_BITS)) & KEY_MASK
        keys = self._key_view
        end = self._offsets_view[bucket + 1]
        at = bisect_left(keys, key, self._offsets_view[bucket], end)
        if not exact:
            return _DECODED[self._count_view[at]] if at < end and keys[at] == key else 0
        rest = digest[HEAD_BYTES:]
        while at < end and keys[at] == key:  # equal keys: sorted by the rest
            if self.rest[at].tobytes() == rest:
                return int(self.exact[at])
            at += 1
        return 0

    def lookup(
        self, digests: npt.NDArray[np.uint8], *, exact: bool = False
    ) -> npt.NDArray[np.int64]:
        """Return the breach count of each digest (0 when absent), by one vectorised search.

        A branch-free binary search in every query's bucket at once: each step is a
        few whole-array operations, so the cost per lookup is a few nanoseconds a step.
        ``exact`` confirms each match against the range data, as ``lookup_one`` does.
        """
        if self.records == 0:
            return np.zeros(len(digests), dtype=np.int64)
        buckets, keys = split_digests(digests)
        base = self.offsets[buckets].astype(np.int64)
        size = self.offsets[buckets + 1].astype(np.int64) - base
        end = base + size
        wanted = keys.astype(np.uint32)
        for _ in range(self._steps):  # invariant: the first key >= wanted is in [base, base+size]
            half = size >> 1
            probe = base + half
            below = (size > 0) & (self.key[np.minimum(probe, self.records - 1)] < wanted)
            base = np.where(below, probe + 1, base)
            size = np.where(below, size - half - 1, half)
        at = np.minimum(base, self.records - 1)
        found = (base < end) & (self.key[at] == wanted)
        if not exact:
            return np.where(found, decode_counts(self.count[at]), 0)
        width = self.digest_bytes - HEAD_BYTES
        rests = self._rest_rows[at]  # one item a row: a gather, then one comparison a row
        wanted_rest = np.ascontiguousarray(digests[:, HEAD_BYTES:]).view(f"V{width}").reshape(-1)
        same = found & (rests == wanted_rest)
        answer = np.where(same, self.exact[at], 0).astype(np.int64)
        for row in np.flatnonzero(found & ~same):  # another hash with the same key: look on
            answer[row] = self.lookup_one(digests[row].tobytes(), exact=True)
        return answer

    def range(self, prefix: str) -> list[RangeRow]:
        """Return every suffix of a five-hex-digit prefix with its exact count, sorted."""
        suffixes, counts = self._range(prefix)
        return [RangeRow(s, c) for s, c in zip(suffixes, counts, strict=True)]

    def range_lines(self, prefix: str) -> list[str]:
        """Return the prefix's answer as HIBP writes it, ``SUFFIX:COUNT`` lines, sorted."""
        suffixes, counts = self._range(prefix)
        return [f"{s}:{c}" for s, c in zip(suffixes, counts, strict=True)]

    def _range(self, prefix: str) -> tuple[list[str], list[int]]:
        """Return the suffixes (upper-case hex) and exact counts of a prefix's bucket."""
        bucket = parse_prefix(prefix)
        start, end = int(self.offsets[bucket]), int(self.offsets[bucket + 1])
        keys = self.key[start:end].astype(">u4").tobytes().hex().upper()
        width = 2 * (self.digest_bytes - HEAD_BYTES)
        rests = self.rest[start:end].tobytes().hex().upper()
        suffixes = [
            keys[i * 8 : i * 8 + 8] + rests[i * width + 1 : (i + 1) * width]
            for i in range(end - start)
        ]
        return suffixes, self.exact[start:end].tolist()

    def digests(self, first: int, last: int) -> npt.NDArray[np.uint8]:
        """Return the whole digests of records ``first:last`` (buckets ``first:last``)."""
        offsets = self.offsets[first : last + 1].astype(np.int64)
        low, high = int(offsets[0]), int(offsets[-1])
        buckets = np.repeat(np.arange(first, last, dtype=np.uint64), np.diff(offsets))
        head = (buckets << np.uint64(64 - PREFIX_BITS)) | (
            self.key[low:high].astype(np.uint64) << np.uint64(64 - PREFIX_BITS - KEY_BITS)
        )
        out = np.empty((high - low, self.digest_bytes), dtype=np.uint8)
        out[:, :HEAD_BYTES] = head.astype(">u8").view(np.uint8).reshape(-1, 8)[:, :HEAD_BYTES]
        out[:, HEAD_BYTES:] = self.rest[low:high]
        return out


INDEX_FILES = ("offsets.u32", "key.u32", "count.u8")
RANGE_FILES = ("rest.u8", "exact.u32")


def padded_lines(lines: list[str], mode: Mode, *, low: int = 800, high: int = 1000) -> list[str]:
    """Return a range answer's ``SUFFIX:COUNT`` lines padded to 800–1,000 lines, sorted."""
    return padded_body(lines, mode, low=low, high=high).decode("ascii").split("\r\n")


def padded_body(lines: list[str], mode: Mode, *, low: int = 800, high: int = 1000) -> bytes:
    """Return a range answer padded to 800–1,000 lines, as the CRLF-separated bytes it is sent as.

    The padding is random suffixes with a count of 0, drawn in sorted order and written
    as hex rows by numpy (under 0.1 ms of CPU an answer; a Python string a row cost
    about three times that). The answer's own lines (sorted, as ``range_lines`` gives them) are
    spliced in where their first 16 hex digits sort. Suffixes are 108 (NTLM) or 140
    (SHA-1) random bits: that a padding row repeats another row (under 2^-88 an answer)
    is not checked.

    The draws come from numpy's generator (PCG64, seeded from the operating system once
    a thread), not the operating system's source: a padding row says it is padding
    (its count is 0), so its digits hide nothing; what the padding hides, from whoever
    sees only the answer's size, is how many rows are real.
    """
    draw = _generator()
    count = max(len(lines), int(draw.integers(low, high, endpoint=True))) - len(lines)
    rows = _padding_rows(draw, count, 2 * DIGEST_BYTES[mode] - 5)
    keys = rows[:, :16].copy().view("S16").reshape(-1)  # hex of the first 8 bytes sorts as they do
    at = np.searchsorted(keys, [line[:16].encode() for line in lines]).tolist()
    cuts = [0, *at, count]
    real = [line.encode() + b"\r\n" for line in lines]
    parts = [
        rows[cuts[i] : cuts[i + 1]].tobytes() + (real[i] if i < len(real) else b"")
        for i in range(len(cuts) - 1)
    ]
    return b"".join(parts)[:-2]


_HEX_PAIRS = np.frombuffer(b"".join(b"%02X" % i for i in range(256)), np.uint16)  # byte -> 2 digits
_generators = threading.local()


def _generator() -> np.random.Generator:
    """Return this thread's generator (numpy's are not safe to share between threads)."""
    found: np.random.Generator | None = getattr(_generators, "draw", None)
    if found is None:
        found = _generators.draw = np.random.default_rng()  # seeded from the OS's source
    return found


def _padding_rows(draw: np.random.Generator, count: int, width: int) -> npt.NDArray[np.uint8]:
    """Return ``count`` random rows ``SUFFIX:0\\r\\n`` (``width`` upper-case hex digits, at
    least 16), sorted."""
    step = (width + 1) // 2  # whole bytes of randomness a suffix
    heads = np.sort(draw.integers(0, 2**64 - 1, count, dtype=np.uint64, endpoint=True))
    drawn = np.empty((count, step), np.uint8)
    drawn[:, :8] = heads.astype(">u8").view(np.uint8).reshape(count, 8)  # the order, first
    drawn[:, 8:] = draw.integers(0, 255, (count, step - 8), dtype=np.uint8, endpoint=True)
    digits = _HEX_PAIRS.take(drawn).view(np.uint8).reshape(count, 2 * step)
    rows = np.empty((count, width + 4), np.uint8)
    rows[:, :width] = digits[:, :width]
    rows[:, width:] = np.frombuffer(b":0\r\n", np.uint8)
    return rows


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
