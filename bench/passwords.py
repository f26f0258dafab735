"""Breached-password store benchmark: build, size and lookups against the obvious alternatives.

Run as ``python -m bench.passwords [--hashes N] [--compare M]``. It streams N random
160-bit values (SHA-1-sized; random bytes are what hashes look like, so none is
hashed) with long-tailed counts into the builder, a few million at a time, so
the benchmark's memory does not grow with N; then it times lookups against that
store, and on the first M of the same values (M ≤ N, in the same run) compares:

* the store (20-bit buckets, 5-byte index), built from those M alone;
* a sorted flat file of 24-byte records (hash + count), memory-mapped, binary search
  with ``numpy.searchsorted`` over the first 8 bytes, then the rest compared;
* a SQLite table ``(hash BLOB PRIMARY KEY, count) WITHOUT ROWID``, one query a lookup;

and times the whole check (lengths, the store, Entra-style scoring) in process. Half
the queried values are in the corpus, half are not; lookups run on one core (numpy's
element-wise operations use one thread).

Then, through the real server (uvicorn on 127.0.0.1 with ``--workers`` processes, the
load generator in a process of its own, ``bench._web``, as ``bench.web`` runs it):
``GET /range/{prefix}`` with ``Add-Padding: true`` and ``POST /api/v1/passwords/check``
with the Entra-style policy and an organisation token, each ``--repeats`` times
interleaved, against the issue's targets (3,000 padded answers and 1,000 checks a
second on this 2-core machine), on SQLite and on PostgreSQL when it answers locally.
The load generator runs on the same two cores as the server.

``--parts`` runs some of the three parts (``store``: the big store's build and lookups;
``compare``: the side-by-side comparison and the in-process check; ``server``); the
results file keeps the rows of the parts not run, each row naming its part and each
part its date and load average, so a long build need not be rerun to remeasure the
server.

The store's index is read once before lookups are timed (every page touched), as a
running server has it in the page cache. The bench files go to a temporary folder
(``--folder`` to choose its disk) and are deleted at the end. Writes
``bench/results/passwords.json``, with the machine's load before and after.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bastion.passwords import Builder, Policy, check, open_store
from bastion.passwords.sources import Batch
from bench._boundary.report import machine

RESULTS = Path(__file__).parent / "results" / "passwords.json"
BATCH = 4_000_000
SEED = 18


def _batch(index: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the ``index``-th batch of the corpus: the same values on every call."""
    rng = np.random.default_rng([SEED, index])
    digests = np.frombuffer(rng.bytes(size * 20), dtype=np.uint8).reshape(size, 20)
    # A long tail as HIBP's counts have: P(count > c) = 1 / sqrt(c), most counts small.
    uniform = (rng.integers(1, 1 << 32, size=size, dtype=np.uint64) / 2**32) ** -2
    return digests, np.minimum(uniform, 50_000_000).astype(np.int64)


def corpus(n: int) -> Iterator[Batch]:
    """Yield the first ``n`` values of the corpus in batches (bounded memory)."""
    for index, start in enumerate(range(0, n, BATCH)):
        digests, counts = _batch(index, min(BATCH, n - start))
        yield Batch("sha1", digests, counts)


def _queries(n: int, count: int) -> np.ndarray:
    """Half values of the first ``n`` (a few from each batch), half random ones."""
    batches = (n + BATCH - 1) // BATCH
    per = max(1, count // 2 // batches)
    present = [_batch(i, min(per, BATCH, n - i * BATCH))[0] for i in range(batches)]
    rng = np.random.default_rng(SEED)
    chosen = np.concatenate(present)[: count // 2]
    absent = np.frombuffer(rng.bytes((count - len(chosen)) * 20), np.uint8).reshape(-1, 20)
    queries = np.concatenate([chosen, absent])
    return queries[rng.permutation(len(queries))]


def _rate(seconds: float, n: int) -> float:
    return round(n / seconds) if seconds else 0.0


def _timed(function: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - started


def _measured(
    report: Report, case: str, noun: str, hashes: int, count: int, function: Callable[[], Any]
) -> Any:
    """Run ``function`` (``count`` operations) once; add its rate per wall and per CPU second.

    On a loaded machine the process waits for a core, so the wall rate is what this
    run saw and the CPU rate is what one core does while it runs the process.
    """
    started, cpu = time.perf_counter(), _cpu()
    value = function()
    wall, used = time.perf_counter() - started, _cpu() - cpu
    report.add(case, f"{noun} per second", _rate(wall, count), "1/s", hashes)
    report.add(case, f"{noun} per CPU second", _rate(used, count), "1/s", hashes)
    return value


def _flat_file(folder: Path, n: int) -> Path:
    """Write the first ``n`` values as sorted 24-byte records (hash, little-endian count)."""
    parts = []
    for batch in corpus(n):
        records = np.zeros((len(batch.counts), 24), dtype=np.uint8)
        records[:, :20] = batch.digests
        records[:, 20:] = batch.counts.astype("<u4").view(np.uint8).reshape(-1, 4)
        parts.append(records)
    records = np.concatenate(parts)
    keys = np.ascontiguousarray(records[:, :8]).view(">u8").reshape(-1)
    path = folder / "flat.bin"
    records[np.argsort(keys)].tofile(path)
    return path


def _flat_lookup(path: Path, queries: np.ndarray) -> np.ndarray:
    records = np.memmap(path, dtype=np.uint8, mode="r").reshape(-1, 24)
    keys = records[:, :8].copy().view(">u8").reshape(-1)
    wanted = np.ascontiguousarray(queries[:, :8]).view(">u8").reshape(-1)
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    found = (records[at, :20] == queries).all(axis=1)
    return np.where(found, records[at, 20:].copy().view("<u4").reshape(-1), 0)


def _sqlite(folder: Path, n: int) -> Path:
    path = folder / "hashes.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("CREATE TABLE hashes (hash BLOB PRIMARY KEY, count INTEGER) WITHOUT ROWID")
    for batch in corpus(n):
        rows = zip((bytes(d) for d in batch.digests), batch.counts.tolist(), strict=True)
        db.executemany("INSERT OR REPLACE INTO hashes VALUES (?, ?)", rows)
    db.commit()
    db.close()
    return path


PARTS = ("store", "compare", "server")
SHARED = "the machine's load averages before and after each part are recorded beside it"


def _part_of(row: dict[str, Any]) -> str:
    """Return the part a result row belongs to (rows written before parts were named too)."""
    if "part" in row:
        return str(row["part"])
    case = str(row["case"])
    return "store" if case == "store" or case.startswith(("store,", "store build")) else "compare"


class Report:
    """The results being gathered: printed as they come, and the file rewritten after each,
    so a run stopped part-way leaves what it measured (marked ``"complete": false``).

    Rows of parts not run this time are kept from the file as it was, with their part's
    date, load and note."""

    def __init__(self, path: Path, notes: dict[str, str], parts: list[str]) -> None:
        self.path = path
        self.note = "; ".join(notes[part] for part in parts) + "; " + SHARED
        self.results: list[dict[str, Any]] = []
        self.started = datetime.now(UTC)
        self.load_before = os.getloadavg()
        self.part = parts[0]
        self.kept: list[dict[str, Any]] = []
        self.parts: dict[str, dict[str, Any]] = {}
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = {}
        old_machine = previous.get("machine", {})
        for row in previous.get("results", []):
            part = _part_of(row)
            if part not in parts:
                self.kept.append({**row, "part": part})
                self.parts[part] = previous.get("parts", {}).get(part) or {
                    "date": previous.get("date"),
                    "load_before": old_machine.get("load_before"),
                    "load_after": old_machine.get("load_after"),
                    "note": old_machine.get("note"),
                }
        for part in parts:
            self.parts[part] = {
                "date": self.started.isoformat(timespec="seconds"),
                "note": f"{notes[part]}; {SHARED}",
            }

    def begin(self, part: str) -> None:
        """Say that the rows added from now on are ``part``'s, and when it started."""
        self.part = part
        self.parts[part] |= {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_before": [round(x, 2) for x in os.getloadavg()],
        }

    def add(self, case: str, metric: str, value: float, unit: str, hashes: int) -> None:
        self.row({"case": case, "metric": metric, "value": value, "unit": unit}, hashes)

    def row(self, row: dict[str, Any], hashes: int) -> None:
        """Add a result row (``case``, ``metric``, ``value``, ``unit`` and any more keys)."""
        self.results.append({**row, "hashes": hashes, "part": self.part})
        self.parts[self.part]["load_after"] = [round(x, 2) for x in os.getloadavg()]
        print(
            f"{row['case']:52} {row['metric']:24} {row['value']:>14,} {row['unit']}  "
            f"({hashes:,} hashes)",
            flush=True,
        )
        self.write(complete=False)

    def write(self, *, complete: bool) -> None:
        document = {
            "machine": {
                **machine(),
                "note": self.note,
                "load_before": [round(x, 2) for x in self.load_before],
                "load_after": [round(x, 2) for x in os.getloadavg()],
            },
            "date": self.started.isoformat(timespec="seconds"),
            "complete": complete,
            "parts": self.parts,
            "results": self.kept + self.results,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _build(root: Path, n: int) -> tuple[float, float]:
    """Build the store of the first ``n`` values; return its wall and CPU seconds."""
    started, cpu = time.perf_counter(), _cpu()
    Builder(root, [], stream=(f"bench-{SEED}-{n}", lambda: corpus(n))).run()
    return time.perf_counter() - started, _cpu() - cpu


def _store_lookups(report: Report, root: Path, n: int, queries: np.ndarray, label: str) -> None:
    store = open_store(root, "sha1")
    int(store.key[::1024].sum())  # every page of the index read once, as a server has them
    int(store.count[::4096].sum())
    q = len(queries)
    ours = _measured(
        report, f"{label}, batch lookups", "lookups", n, q, lambda: store.lookup(queries)
    )
    exact = _measured(
        report,
        f"{label}, batch lookups, exact",
        "lookups",
        n,
        q,
        lambda: store.lookup(queries, exact=True),
    )
    found = int((exact > 0).sum())
    if found < q // 2:
        msg = f"the store found {found:,} of the {q // 2:,} values it holds"
        raise SystemExit(msg)
    single = [bytes(x) for x in queries[:50_000]]
    _measured(
        report,
        f"{label}, one at a time",
        "lookups",
        n,
        len(single),
        lambda: [store.lookup_one(x) for x in single],
    )
    report.add(f"{label}", "index bytes per hash", round(store.index_bytes() / n, 3), "bytes", n)
    report.add(f"{label}", "range data per hash", round(store.range_bytes() / n, 3), "bytes", n)
    false = int(((ours > 0) & (exact == 0)).sum())
    report.add(f"{label}, absent values taken as present", "false matches", false, "", n)


def _compare(report: Report, folder: Path, m: int, queries: np.ndarray) -> None:
    """Store, sorted flat file and SQLite on the same ``m`` values and queries."""
    seconds, _ = _build(folder / "small", m)
    report.add("store (comparison size)", "build seconds", round(seconds, 2), "s", m)
    _store_lookups(report, folder / "small", m, queries, "store (comparison size)")
    store = open_store(folder / "small", "sha1")
    ours = store.lookup(queries, exact=True)
    total = store.index_bytes() + store.range_bytes()
    report.add("store with range data", "bytes per hash", round(total / m, 2), "bytes", m)

    flat, seconds = _timed(_flat_file, folder, m)
    report.add("sorted flat file", "build seconds", round(seconds, 2), "s", m)
    report.add("sorted flat file", "bytes per hash", round(flat.stat().st_size / m, 2), "bytes", m)
    theirs = _measured(
        report,
        "sorted flat file, batch lookups",
        "lookups",
        m,
        len(queries),
        lambda: _flat_lookup(flat, queries),
    )
    if not (ours == theirs).all():
        raise SystemExit("the store and the flat file disagree")
    flat.unlink()

    db, seconds = _timed(_sqlite, folder, m)
    report.add("SQLite indexed table", "build seconds", round(seconds, 2), "s", m)
    report.add(
        "SQLite indexed table", "bytes per hash", round(db.stat().st_size / m, 2), "bytes", m
    )
    connection = sqlite3.connect(db)
    single = [bytes(q) for q in queries[:50_000]]
    query = "SELECT count FROM hashes WHERE hash = ?"
    _measured(
        report,
        "SQLite indexed table, one at a time",
        "lookups",
        m,
        len(single),
        lambda: [connection.execute(query, (q,)).fetchone() for q in single],
    )
    connection.close()

    policy = Policy(scoring=True)
    candidates = [f"Summer{i % 97}-ward{i}-rota" for i in range(20_000)]

    def count(text: str) -> int:
        return store.lookup_one(hashlib.sha1(text.encode()).digest(), exact=True)

    _measured(
        report,
        "check, Entra-style policy, in process",
        "checks",
        m,
        len(candidates),
        lambda: [check(p, policy, mfa=True, breach_count=count) for p in candidates],
    )


def _server(report: Report, args: argparse.Namespace) -> None:
    """Range and check requests through uvicorn, against the issue's targets."""
    from bench.web import _backends, _interleaved, _server_cases, _summaries

    wanted = [b.strip() for b in args.backends.split(",") if b.strip()]
    cases, close = _server_cases(
        _backends(wanted, "bastion_bench_passwords_server"),
        args.workers,
        args.connections,
        args.server_seconds,
        args.server_hashes,
    )
    try:
        rows = _summaries(_interleaved(cases, args.repeats))
    finally:
        close()
    for row in rows:
        report.row({**row, "case": f"server: {row['case']}"}, args.server_hashes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.passwords", description=__doc__)
    parser.add_argument("--hashes", type=int, default=2_000_000, help="size of the big store")
    parser.add_argument("--compare", type=int, default=2_000_000, help="size of the comparison")
    parser.add_argument("--queries", type=int, default=1_000_000)
    parser.add_argument("--folder", type=Path, default=None, help="where the bench files go")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--parts", default=",".join(PARTS), help="which of store,compare,server")
    parser.add_argument("--server-hashes", type=int, default=1_000_000, help="the server's store")
    parser.add_argument("--server-seconds", type=float, default=5.0, help="per run of a case")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs of each case")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn processes")
    # Under the SQL pool's 15 connections: more requests in flight than that wait on it.
    parser.add_argument("--connections", type=int, default=8, help="the load generator's")
    parser.add_argument("--backends", default="sqlite,postgresql", help="the server's database")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if unknown := sorted(set(parts) - set(PARTS)):
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    n, m = args.hashes, min(args.compare, args.hashes)
    notes = {
        "store": f"{n:,} random 160-bit values in the big store",
        "compare": f"{m:,} of them in the side-by-side comparison and the in-process check",
        "server": (
            f"{args.server_hashes:,} hashes behind uvicorn with {args.workers} workers, "
            f"{args.connections} connections, {args.repeats} runs of {args.server_seconds:g} s "
            "interleaved (the median given), the load generator on the same cores"
        ),
    }
    report = Report(args.results, notes, parts)
    folder = Path(tempfile.mkdtemp(prefix="bench-passwords-", dir=args.folder))
    try:
        if "store" in parts:
            report.begin("store")
            seconds, cpu = _build(folder / "big", n)
            report.add("store build (streamed values)", "seconds", round(seconds, 1), "s", n)
            report.add("store build (streamed values)", "CPU seconds", round(cpu, 1), "s", n)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            report.add(
                "store build (streamed values)", "peak memory of the process", round(peak), "MiB", n
            )
            _store_lookups(report, folder / "big", n, _queries(n, args.queries), "store")
            shutil.rmtree(folder / "big")
        if "compare" in parts:
            report.begin("compare")
            _compare(report, folder, m, _queries(m, args.queries))
        if "server" in parts:
            report.begin("server")
            _server(report, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report.write(complete=True)


if __name__ == "__main__":
    main()
