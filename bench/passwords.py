"""Breached-password store benchmark: build, size and lookups against the obvious alternatives.

Run as ``python -m bench.passwords [--hashes N]``. It writes N random SHA-1 hashes as
one HIBP downloader file (``HASH:COUNT`` lines), builds the store from it (wall time,
peak memory of the process), then compares, on the same hashes in the same run:

* the store (20-bit buckets, 6-byte index): vectorised batch lookups, and one at a time;
* a sorted flat file of 24-byte records (hash + count), memory-mapped, binary search
  with ``numpy.searchsorted`` over the first 8 bytes, then the rest compared;
* a SQLite table ``(hash BLOB PRIMARY KEY, count) WITHOUT ROWID``, one query a lookup;

and times the whole check (lengths, the store, Entra-style scoring) in process, not
through the web server.

Half the queried hashes are in the corpus, half are not. Writes
``bench/results/passwords.json``. The issue's 1-billion-hash figures need an idle
machine and ~70 GB of disk; the size run here is stated in the results.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bastion.passwords import Builder, Policy, check, open_store, source
from bench._boundary.report import machine

RESULTS = Path(__file__).parent / "results" / "passwords.json"


def _corpus(folder: Path, n: int, rng: np.random.Generator) -> tuple[Path, np.ndarray, np.ndarray]:
    digests = rng.integers(0, 256, size=(n, 20), dtype=np.uint8)
    counts = rng.zipf(1.5, size=n).clip(1, 50_000_000)
    path = folder / "pwned-passwords-sha1.txt"
    with path.open("w", encoding="ascii") as handle:
        for start in range(0, n, 500_000):
            block = digests[start : start + 500_000]
            hexes = block.tobytes().hex().upper()
            lines = [
                f"{hexes[i * 40 : (i + 1) * 40]}:{c}"
                for i, c in enumerate(counts[start : start + 500_000].tolist())
            ]
            handle.write("\r\n".join(lines) + "\r\n")
    return path, digests, counts


def _queries(digests: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    present = digests[rng.integers(0, len(digests), size=count // 2)]
    absent = rng.integers(0, 256, size=(count - count // 2, 20), dtype=np.uint8)
    queries = np.concatenate([present, absent])
    return queries[rng.permutation(len(queries))]


def _rate(seconds: float, n: int) -> float:
    return round(n / seconds) if seconds else 0.0


def _flat_file(folder: Path, digests: np.ndarray, counts: np.ndarray) -> tuple[Path, float]:
    started = time.perf_counter()
    records = np.zeros((len(digests), 24), dtype=np.uint8)
    records[:, :20] = digests
    records[:, 20:] = counts.astype("<u4").view(np.uint8).reshape(-1, 4)
    keys = np.ascontiguousarray(digests[:, :8]).view(">u8").reshape(-1)
    records = records[np.argsort(keys, kind="stable")]
    path = folder / "flat.bin"
    records.tofile(path)
    return path, time.perf_counter() - started


def _flat_lookup(path: Path, queries: np.ndarray) -> np.ndarray:
    records = np.memmap(path, dtype=np.uint8, mode="r").reshape(-1, 24)
    keys = np.ascontiguousarray(records[:, :8]).view(">u8").reshape(-1)
    wanted = np.ascontiguousarray(queries[:, :8]).view(">u8").reshape(-1)
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    found = (records[at, :20] == queries).all(axis=1)
    return np.where(found, records[at, 20:].copy().view("<u4").reshape(-1), 0)


def _sqlite(folder: Path, digests: np.ndarray, counts: np.ndarray) -> tuple[Path, float]:
    path = folder / "hashes.db"
    started = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE hashes (hash BLOB PRIMARY KEY, count INTEGER) WITHOUT ROWID")
    for start in range(0, len(digests), 200_000):
        rows = zip(
            (bytes(d) for d in digests[start : start + 200_000]),
            counts[start : start + 200_000].tolist(),
            strict=True,
        )
        db.executemany("INSERT OR REPLACE INTO hashes VALUES (?, ?)", rows)
    db.commit()
    db.close()
    return path, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.passwords", description=__doc__)
    parser.add_argument("--hashes", type=int, default=2_000_000)
    parser.add_argument("--queries", type=int, default=1_000_000)
    parser.add_argument("--single", type=int, default=20_000, help="one-at-a-time lookups")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(18)
    folder = Path(tempfile.mkdtemp(prefix="bench-passwords-"))
    n = args.hashes
    source_file, digests, counts = _corpus(folder, n, rng)
    results: list[dict[str, Any]] = []

    def add(case: str, metric: str, value: float, unit: str, **extra: Any) -> None:
        results.append(
            {"case": case, "metric": metric, "value": value, "unit": unit, "hashes": n, **extra}
        )
        print(f"{case:48} {metric:22} {value:>14,} {unit}")

    started = time.perf_counter()
    Builder(folder / "store", [source(source_file)]).run()
    add("store build (HIBP file)", "seconds", round(time.perf_counter() - started, 2), "s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    add("store build (HIBP file)", "peak memory", round(peak), "MiB")
    store = open_store(folder / "store", "sha1")
    add("store", "index bytes per hash", round(store.index_bytes() / store.records, 2), "bytes")
    add("store", "range data per hash", round(store.range_bytes() / store.records, 2), "bytes")
    queries = _queries(digests, args.queries, rng)
    store.lookup(queries[:1000])  # map the pages touched first, as a running server has
    started = time.perf_counter()
    ours = store.lookup(queries)
    add(
        "store, batch lookups",
        "lookups per second",
        _rate(time.perf_counter() - started, len(queries)),
        "1/s",
    )
    single = [bytes(q) for q in queries[: args.single]]
    started = time.perf_counter()
    for q in single:
        store.lookup_one(q)
    add(
        "store, one at a time",
        "lookups per second",
        _rate(time.perf_counter() - started, len(single)),
        "1/s",
    )

    policy = Policy(scoring=True)
    candidates = [f"Summer{i % 97}-ward{i}-rota" for i in range(args.single)]
    started = time.perf_counter()
    for password in candidates:
        check(
            password,
            policy,
            mfa=True,
            breach_count=lambda t: store.lookup_one(hashlib.sha1(t.encode()).digest()),
        )
    rate = _rate(time.perf_counter() - started, len(candidates))
    add("check, Entra-style policy, in process", "checks per second", rate, "1/s")

    flat, seconds = _flat_file(folder, digests, counts)
    add("sorted flat file", "build seconds", round(seconds, 2), "s")
    add("sorted flat file", "bytes per hash", round(flat.stat().st_size / n, 2), "bytes")
    started = time.perf_counter()
    theirs = _flat_lookup(flat, queries)
    add(
        "sorted flat file, batch lookups",
        "lookups per second",
        _rate(time.perf_counter() - started, len(queries)),
        "1/s",
    )
    if not ((ours > 0) == (theirs > 0)).all():
        msg = "the store and the flat file disagree on which hashes are breached"
        raise SystemExit(msg)

    db, seconds = _sqlite(folder, digests, counts)
    add("SQLite indexed table", "build seconds", round(seconds, 2), "s")
    add("SQLite indexed table", "bytes per hash", round(db.stat().st_size / n, 2), "bytes")
    connection = sqlite3.connect(db)
    started = time.perf_counter()
    for q in single:
        connection.execute("SELECT count FROM hashes WHERE hash = ?", (q,)).fetchone()
    add(
        "SQLite indexed table, one at a time",
        "lookups per second",
        _rate(time.perf_counter() - started, len(single)),
        "1/s",
    )
    connection.close()

    report = {
        "machine": {**machine(), "note": f"{n:,} random SHA-1 hashes on a shared 2-core machine"},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "results": results,
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
