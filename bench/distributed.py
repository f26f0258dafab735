"""Benchmark the distributed boundary: ``python -m bench.distributed``.

Everything is real and on this machine: a NATS JetStream server the benchmark
starts for itself (file storage in a scratch folder), a PostgreSQL database it
creates on 127.0.0.1 (dropped afterwards), the demo federation (small) loaded
into it, and ``bastion boundary worker`` processes sharing one archive folder,
each held to one thread, as a deployment runs one worker per core.

- Throughput (cases ``1 worker`` and ``2 workers``): the workers start on an
  empty stream; once every one of them is pulling, the messages of ``--events``
  PAN-OS lines (the same chunks and message format as ``boundary publish``) are
  published at once; the time runs from the first publish until the stream is
  empty, every chunk processed, committed to PostgreSQL and the archive, and
  acknowledged.
- Lag (case ``2 workers at N events/s``): two workers; chunks are published
  paced at ``--rate`` lines a second for ``--lag-seconds``. Every half second
  the age of the oldest chunk still in the stream (published, not yet
  acknowledged) is sampled: no event waits longer than that between being
  published and being committed.
- Memory: each worker's peak resident size (the kernel's high-water mark).

The machine's load and the other busy processes are recorded with each case:
the cores are shared. Results go to ``bench/results/distributed.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import psycopg
import zstandard
from nats.js.errors import NotFoundError

from bastion.boundary import distributed
from bastion.boundary.sources import read_chunks
from bastion.core.bus import connect
from bench._boundary.report import Load, code_measured, entry, write_document
from bench._boundary.runner import ONE_THREAD
from bench.listen import _busy_others, panos_lines

REPO = Path(__file__).resolve().parents[1]
DEFAULT_RESULTS = REPO / "bench" / "results" / "distributed.json"
BASTION = Path(sys.executable).with_name("bastion")
NATIONAL_AVERAGE = 35_000  # events/s: 3 billion a day
TARGET_RATIO = 1.7
TARGET_LAG_S = 10.0
TARGET_RSS_MB = 1536


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.distributed", description=__doc__)
    parser.add_argument("--events", type=int, default=3_000_000, help="lines per throughput run")
    parser.add_argument("--rate", type=int, default=NATIONAL_AVERAGE, help="lag run: lines/s")
    parser.add_argument("--lag-seconds", type=float, default=120.0, help="lag run: how long")
    parser.add_argument("--distinct", type=int, default=200_000, help="distinct lines, cycled")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "BASTION_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="an administrator's URL: the benchmark creates (and drops) a database there",
    )
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    return parser.parse_args(argv)


def say(text: str = "") -> None:
    print(text, flush=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def nats_server(folder: Path) -> Any:
    """Run a JetStream server of the benchmark's own (file storage in ``folder``); yield its URL."""
    port = _free_port()
    command = ["nats-server", "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(folder)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("nats-server did not start") from None
                time.sleep(0.1)
        yield f"nats://127.0.0.1:{port}", server.pid
    finally:
        server.terminate()
        server.wait(timeout=20)


@contextmanager
def postgres_database(admin_url: str) -> Any:
    """Create a database of the benchmark's own; yield its SQLAlchemy URL; drop it afterwards."""
    name = f"bench_distributed_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class Services:
    """Where the workers' NATS, database and archive are, to read their counters."""

    nats_url: str
    nats_pid: int
    database_url: str  # SQLAlchemy's form
    archive: Path

    def counters(self) -> dict[str, float]:
        """Return PostgreSQL's committed transactions, the archive's files, NATS's CPU seconds."""
        url = self.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(url) as db:
            row = db.execute(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
            ).fetchone()
        cpu = psutil.Process(self.nats_pid).cpu_times()
        return {
            "commits": float(row[0] if row else 0),
            "archive_files": float(sum(1 for _ in self.archive.rglob("*.parquet"))),
            "nats_cpu_seconds": cpu.user + cpu.system,
        }


def _costs(
    before: dict[str, float], after: dict[str, float], chunks: int, seconds: float
) -> dict[str, Any]:
    """What the run cost PostgreSQL, the archive and NATS, per chunk and per second."""
    commits = after["commits"] - before["commits"]
    files = after["archive_files"] - before["archive_files"]
    nats_cpu = after["nats_cpu_seconds"] - before["nats_cpu_seconds"]
    return {
        "commits": int(commits),
        "commits_per_s": commits / seconds,
        "commits_per_chunk": commits / chunks,
        "archive_files_written": int(files),
        "archive_files_per_chunk": files / chunks,
        "nats_cpu_seconds": round(nats_cpu, 3),
        "nats_cpu_ms_per_chunk": 1e3 * nats_cpu / chunks,
    }


def messages(
    lines: list[bytes], count: int, key: str
) -> list[tuple[distributed.ChunkMessage, int]]:
    """Cut ``count`` lines (``lines`` cycled) into the chunk messages `boundary publish` sends;
    return each with its number of lines."""
    cycle = b"".join(line + b"\n" for line in lines)
    whole, part = divmod(count, len(lines))
    data = cycle * whole + b"".join(line + b"\n" for line in lines[:part])
    compressor = zstandard.ZstdCompressor(level=3)
    source = f"bench://{key}"
    return [
        (
            distributed.chunk_message(source, key, "panos", chunk, [], compressor),
            chunk.data.count(b"\n"),
        )
        for chunk in read_chunks(io.BytesIO(data), chunk_size=distributed.CHUNK_SIZE)
    ]


class Workers:
    """``bastion boundary worker`` processes, their peak memory sampled while they run."""

    def __init__(self, count: int, nats_url: str, env: dict[str, str], cwd: Path) -> None:
        command = [
            str(BASTION),
            "boundary",
            "worker",
            "--nats",
            nats_url,
            "--idle-exit",
            "10",
            "--json",
        ]
        self.processes = [
            subprocess.Popen(
                command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for _ in range(count)
        ]
        self.peak_mb = [0.0] * count
        self.cpu_seconds = [0.0] * count

    def sample(self) -> None:
        for index, process in enumerate(self.processes):
            try:
                times = psutil.Process(process.pid).cpu_times()
                self.cpu_seconds[index] = times.user + times.system
            except psutil.Error:
                pass
            status = Path(f"/proc/{process.pid}/status")
            try:
                text = status.read_text(encoding="ascii")
            except OSError:
                continue
            for line in text.splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_mb[index] = max(self.peak_mb[index], int(line.split()[1]) / 1024)

    def check_running(self) -> None:
        """Raise if every worker exited while work remains (else the benchmark would wait forever)."""
        if all(process.poll() is not None for process in self.processes):
            self.finish()  # raises with the first failure's stderr
            msg = "every worker exited with chunks still in the stream"
            raise RuntimeError(msg)

    def finish(self) -> list[dict[str, Any]]:
        """Stop the workers still running and return their reports (once the stream is empty,
        or every worker gone).

        SIGTERM, as systemd stops one: a worker finishes the chunk in hand, prints its
        report and exits; its ``--idle-exit`` is the fallback should the benchmark die."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        reports = []
        for process in self.processes:
            stdout, stderr = process.communicate(timeout=120)
            if process.returncode != 0:
                msg = f"a worker exited {process.returncode}: {stderr.decode()[-2000:]}"
                raise RuntimeError(msg)
            reports.append({"sources": json.loads(stdout)})
        return reports


async def _wait_pulling(js: Any, workers: Workers, count: int) -> None:
    """Wait until ``count`` workers pull from the consumer (each has opened its pipeline)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        workers.sample()
        try:
            info = await js.consumer_info(distributed.STREAM, distributed.CONSUMER)
        except NotFoundError:  # no worker has made it yet
            info = None
        if info is not None and (info.num_waiting or 0) >= count:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{count} workers were not pulling within 180 s")


async def throughput(
    services: Services,
    env: dict[str, str],
    cwd: Path,
    load: Load,
    count: int,
    batch: list[Any],
    events: int,
) -> dict[str, Any]:
    """Publish ``batch`` to ``count`` ready workers; time until every chunk is acknowledged."""
    nats_url = services.nats_url
    nc = await connect(nats_url)
    js = nc.jetstream()
    await distributed.ensure_stream(js)
    load_before = load.sample()
    others = _busy_others({os.getpid()})
    workers = Workers(count, nats_url, env, cwd)
    await _wait_pulling(js, workers, count)
    idle_cpu = sum(workers.cpu_seconds)  # start-up: imports, the pipeline opened
    before = services.counters()
    started = time.perf_counter()
    for message, _ in batch:
        await js.publish(message.subject, message.payload, headers=message.headers)
    published = time.perf_counter() - started
    while (await js.stream_info(distributed.STREAM)).state.messages:
        workers.sample()
        workers.check_running()
        await asyncio.sleep(0.1)
    seconds = time.perf_counter() - started
    costs = _costs(before, services.counters(), len(batch), seconds)
    await nc.close()
    reports = workers.finish()
    return {
        **costs,
        "compressed_bytes_per_chunk": sum(len(m.payload) for m, _ in batch) / len(batch),
        "workers": count,
        "events": events,
        "messages": len(batch),
        "seconds": seconds,
        "publish_seconds": published,
        "events_per_s": events / seconds,
        "worker_cpu_seconds": [round(cpu, 2) for cpu in workers.cpu_seconds],
        "events_per_worker_cpu_s": events / (sum(workers.cpu_seconds) - idle_cpu),
        "peak_rss_mb_each": [round(mb) for mb in workers.peak_mb],
        "archived": sum(s["events"] for r in reports for s in r["sources"]),
        "load_average_1m_before": load_before,
        "load_average_1m_after": load.sample(),
        "other_busy_processes": others,
    }


async def lag(
    services: Services,
    env: dict[str, str],
    cwd: Path,
    load: Load,
    batch: list[Any],
    rate: int,
    seconds: float,
) -> dict[str, Any]:
    """Publish ``batch`` paced at ``rate`` lines/s to two workers; sample the oldest chunk's age."""
    nats_url = services.nats_url
    nc = await connect(nats_url)
    js = nc.jetstream()
    await distributed.ensure_stream(js)
    load_before = load.sample()
    others = _busy_others({os.getpid()})
    workers = Workers(2, nats_url, env, cwd)
    await _wait_pulling(js, workers, 2)
    published_at: dict[int, float] = {}
    ages: list[float] = []
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set() or (await js.stream_info(distributed.STREAM)).state.messages:
            workers.sample()
            workers.check_running()
            state = (await js.stream_info(distributed.STREAM)).state
            now = time.perf_counter()
            oldest = published_at.get(state.first_seq) if state.messages else None
            ages.append(0.0 if oldest is None else now - oldest)
            await asyncio.sleep(0.5)

    before = services.counters()
    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    sent = 0
    for message, lines in batch:
        if time.perf_counter() - started >= seconds:
            break
        ack = await js.publish(message.subject, message.payload, headers=message.headers)
        published_at[ack.seq] = time.perf_counter()
        sent += lines
        ahead = sent / rate - (time.perf_counter() - started)
        if ahead > 0:
            await asyncio.sleep(ahead)
    offered_seconds = time.perf_counter() - started
    done.set()
    await sampler
    drained = time.perf_counter() - started - offered_seconds
    costs = _costs(before, services.counters(), len(published_at), offered_seconds + drained)
    await nc.close()
    reports = workers.finish()
    ordered = sorted(ages)
    return {
        **costs,
        "rate_asked": rate,
        "events_offered": sent,
        "offered_seconds": offered_seconds,
        "offered_rate": sent / offered_seconds,
        "drain_seconds_after_last_publish": drained,
        "lag_max_s": max(ages),
        "lag_p95_s": ordered[int(0.95 * (len(ordered) - 1))],
        "lag_median_s": ordered[len(ordered) // 2],
        "lag_samples": len(ages),
        "worker_cpu_seconds": [round(cpu, 2) for cpu in workers.cpu_seconds],
        "peak_rss_mb_each": [round(mb) for mb in workers.peak_mb],
        "archived": sum(s["events"] for r in reports for s in r["sources"]),
        "load_average_1m_before": load_before,
        "load_average_1m_after": load.sample(),
        "other_busy_processes": others,
    }


def setup(scratch: Path, database_url: str) -> dict[str, str]:
    """Migrate the database, load the demo federation; return the workers' environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASTION_")}
    env |= ONE_THREAD | {
        "BASTION_DATA_DIR": str(scratch / "data"),
        "BASTION_DATABASE_URL": database_url,
    }
    for command in (["init"], ["demo", "federation", "--seed", "7", "--size", "small"]):
        subprocess.run([BASTION, *command], env=env, cwd=scratch, check=True, capture_output=True)
    return env


def results(runs: dict[str, dict[str, Any]], rate: int) -> list[dict[str, Any]]:
    """Return the result rows: throughput per case, the ratio, the lag, memory."""
    one, two, steady = runs["1 worker"], runs["2 workers"], runs["lag"]
    ratio = two["events_per_s"] / one["events_per_s"]
    lag_case = f"2 workers at {rate} events/s"
    peak = max(one["peak_rss_mb_each"] + two["peak_rss_mb_each"] + steady["peak_rss_mb_each"])
    rows = [
        entry(name, "throughput", run["events_per_s"], "events/s", events=run["events"])
        for name, run in (("1 worker", one), ("2 workers", two))
    ]
    rows += [
        entry(
            name,
            "events_per_worker_cpu_s",
            run["events_per_worker_cpu_s"],
            "events/s",
            note="events over the CPU seconds the workers spent on them (start-up left out): "
            "what one core sustains, however busy the shared machine was",
        )
        for name, run in (("1 worker", one), ("2 workers", two))
    ]
    rows += [
        entry(
            "2 workers",
            "scaling_ratio",
            ratio,
            "x",
            target=TARGET_RATIO,
            meets_target=ratio >= TARGET_RATIO,
            note="2 workers' throughput over 1 worker's, on this machine's 2 shared cores",
        ),
        entry(
            "2 workers",
            "events_per_chunk",
            two["events"] / two["messages"],
            "events",
            compressed_bytes=round(two["compressed_bytes_per_chunk"]),
        ),
        entry(
            "2 workers",
            "postgres_commits_per_chunk",
            two["commits_per_chunk"],
            "commits",
            note="the database's committed transactions (pg_stat_database) over chunks processed",
        ),
        entry("2 workers", "postgres_commits_per_s", two["commits_per_s"], "commits/s"),
        entry(
            "2 workers",
            "archive_files_per_chunk",
            two["archive_files_per_chunk"],
            "files",
            note="Parquet files the workers wrote (before compaction) over chunks processed",
        ),
        entry(
            "2 workers",
            "nats_cpu_ms_per_chunk",
            two["nats_cpu_ms_per_chunk"],
            "ms",
            note="nats-server's CPU from the first publish to the last acknowledgement, per chunk",
        ),
        entry(lag_case, "offered_rate", steady["offered_rate"], "events/s"),
        entry(
            lag_case,
            "end_to_end_lag_max",
            steady["lag_max_s"],
            "s",
            target=TARGET_LAG_S,
            meets_target=steady["lag_max_s"] < TARGET_LAG_S,
            note="the oldest published, unacknowledged chunk's age, sampled every 0.5 s",
        ),
        entry(lag_case, "end_to_end_lag_p95", steady["lag_p95_s"], "s"),
        entry(
            "all",
            "peak_rss_mb_per_worker",
            peak,
            "MB",
            target=TARGET_RSS_MB,
            meets_target=peak < TARGET_RSS_MB,
        ),
    ]
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit code."""
    args = _arguments(argv)
    if shutil.which("nats-server") is None:
        say("nats-server is not installed")
        return 2
    say(f"generating {args.distinct:,} PAN-OS lines …")
    lines = panos_lines(args.distinct)
    lag_events = int(args.rate * args.lag_seconds) + args.rate
    runs: dict[str, dict[str, Any]] = {}
    load = Load()
    with (
        tempfile.TemporaryDirectory(prefix="bench-distributed-") as folder,
        postgres_database(args.postgres) as database_url,
    ):
        scratch = Path(folder)
        env = setup(scratch, database_url)
        with nats_server(scratch / "nats") as (nats_url, nats_pid):
            services = Services(nats_url, nats_pid, database_url, scratch / "data" / "archive")
            for count, name in ((1, "1 worker"), (2, "2 workers")):
                batch = messages(lines, args.events, f"bench-{secrets.token_hex(6)}")
                say(f"{name}: {args.events:,} lines in {len(batch)} chunks …")
                runs[name] = asyncio.run(
                    throughput(services, env, scratch, load, count, batch, args.events)
                )
                say(f"  {runs[name]['events_per_s']:,.0f} events/s")
            batch = messages(lines, lag_events, f"bench-{secrets.token_hex(6)}")
            say(f"2 workers at {args.rate:,} lines/s for {args.lag_seconds:g} s …")
            runs["lag"] = asyncio.run(
                lag(services, env, scratch, load, batch, args.rate, args.lag_seconds)
            )
            say(
                f"  offered {runs['lag']['offered_rate']:,.0f}/s; lag max "
                f"{runs['lag']['lag_max_s']:.1f} s, p95 {runs['lag']['lag_p95_s']:.1f} s"
            )
    write_document(
        args.results,
        results(runs, args.rate),
        load,
        "workers, NATS, PostgreSQL and the publishing benchmark all on this machine's cores",
        runs=runs,
        config={
            "events": args.events,
            "rate": args.rate,
            "lag_seconds": args.lag_seconds,
            "distinct_lines": args.distinct,
            "format": "panos (the demo generator's lines for the small demo federation, cycled)",
            "workers": "bastion boundary worker, one thread each (POLARS_MAX_THREADS=1 …), "
            "PostgreSQL on 127.0.0.1, one shared archive folder",
            "nats": "a nats-server -js of the benchmark's own, file storage",
        },
        code=code_measured(REPO),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
