"""Uptime benchmark: agent probe rate, centre ingest, SLO evaluation, history on disk.

Run as ``python -m bench.uptime [--seconds 30]``. Everything stays on 127.0.0.1:

* **agent**: one agent process probes 2,500 HTTP monitors every 10 s (15,000 a minute
  if it keeps up) against a local keep-alive HTTP server in another process, for
  ``--seconds``; probes per minute achieved (wall clock), the agent's CPU time and so
  the probes a minute one core of its own sustains (the shared machine gives the
  agent only a slice of a core), and its resident memory sampled every second
  (bounded: it must not grow with time);
* **ingest**: 5 agents × 10,000 monitors at 30 s is 100,000 results a minute; two
  minutes of them are published to a JetStream stream of the bench's own in batches
  of 2,000, then the centre takes them in (decode, store raw by hour, note the agent)
  and decides the hour by quorum; results per second, against 1,667 needed;
* **slo**: one evaluation of 10,000 SLOs (one monitor each) over three days of history
  (the last 6 to 7 hours in minutes, hours before), read from the Parquet history and
  evaluated, as the centre's cycle does;
* **disk**: a day of minute rows of 1,000 monitors written as the history writes
  them (zstd Parquet, one file an hour), times 365: the projected size of a year of
  minute-resolution history.

Writes ``bench/results/uptime.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import psutil

from bastion.store import Store
from bastion.store.migrate import upgrade
from bastion.uptime import Agent, Centre, History, bus, monitor
from bastion.uptime.centre import monitor_frame
from bastion.uptime.domain import Monitor
from bastion.uptime.quorum import MINUTE_SCHEMA, minutes
from bastion.uptime.slo import Slo, burn_rates, firing, slo_frame
from bench._boundary.report import Load, write_document

RESULTS = Path(__file__).parent / "results" / "uptime.json"
NATS_URL = os.environ.get("BASTION_TEST_NATS_URL", "nats://127.0.0.1:4222")
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


def _serve(port: int) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                writer.write(RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _monitors(n: int, url: str, interval: int) -> list[Monitor]:
    made = []
    for i in range(n):
        item = monitor(f"m{i}", "http", f"{url}/m{i}", org="RAL", service=f"S{i}",
                       interval_s=interval, timeout_s=5)  # fmt: skip
        made.append(Monitor(**{**item.__dict__, "id": i + 1}))
    return made


def bench_agent(seconds: float) -> list[dict[str, Any]]:
    port = _free_port()
    server = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    server.start()
    time.sleep(0.5)
    sent = {"rows": 0}

    async def publish(frame: pl.DataFrame, _batch: str) -> None:
        sent["rows"] += frame.height  # the probes are measured here, not the bus

    monitors = _monitors(2500, f"http://127.0.0.1:{port}", 10)
    agent = Agent("bench", monitors, publish, concurrency=20)
    process = psutil.Process()
    cpu_before = sum(process.cpu_times()[:2])
    samples: list[float] = []

    async def run() -> None:
        async def sample() -> None:
            while True:
                samples.append(process.memory_info().rss / 2**20)
                await asyncio.sleep(1)

        sampler = asyncio.create_task(sample())
        await agent.run(duration_s=seconds)
        sampler.cancel()

    start = time.perf_counter()
    asyncio.run(run())
    elapsed = time.perf_counter() - start
    cpu = sum(process.cpu_times()[:2]) - cpu_before
    server.terminate()
    server.join()
    third = max(1, len(samples) // 3)
    return [
        {"case": "agent_http_probes", "metric": "probes_per_minute",
         "value": round(agent.stats.probes / elapsed * 60), "unit": "probes/min"},
        {"case": "agent_http_probes", "metric": "failed_probes", "value": agent.stats.failed,
         "unit": "probes"},
        {"case": "agent_http_probes", "metric": "agent_cpu_seconds", "value": round(cpu, 2),
         "unit": "s"},
        {"case": "agent_http_probes", "metric": "probes_per_minute_per_cpu_core",
         "value": round(agent.stats.probes / max(cpu, 1e-9) * 60), "unit": "probes/min"},
        {"case": "agent_http_probes", "metric": "rss_first_third_mb",
         "value": round(max(samples[:third]), 1), "unit": "MiB"},
        {"case": "agent_http_probes", "metric": "rss_last_third_mb",
         "value": round(max(samples[-third:]), 1), "unit": "MiB"},
    ]  # fmt: skip


def _results(n_monitors: int, agents: int, minutes_n: int, start: datetime) -> list[pl.DataFrame]:
    """Synthetic results: every monitor every 30 s from each agent; 1 % fail at one agent."""
    rng = np.random.default_rng(7)
    frames = []
    for a in range(agents):
        for slot in range(minutes_n * 2):
            at = start + timedelta(seconds=30 * slot + a)
            frames.append(pl.DataFrame({
                "monitor": np.arange(1, n_monitors + 1, dtype=np.int64),
                "agent": f"agent-{a}",
                "at": [at] * n_monitors,
                "ok": rng.random(n_monitors) > 0.01,
                "latency_ms": rng.gamma(2.0, 20.0, n_monitors),
            }))  # fmt: skip
    return frames


def bench_ingest(folder: Path) -> list[dict[str, Any]]:
    store = Store.from_url(f"sqlite:///{folder / 'bastion.db'}")
    upgrade(store.engine)
    centre = Centre(store, History(folder / "ingest"))
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=3)
    frames = _results(10_000, 5, 2, start)
    batches = [f.slice(i, 2000) for f in frames for i in range(0, f.height, 2000)]
    total = sum(b.height for b in batches)
    bus.STREAM = f"BASTION_UPTIME_BENCH_{uuid.uuid4().hex[:6].upper()}"
    bus.SUBJECT_PREFIX = f"bastion-bench.{bus.STREAM.lower()}"
    bus.CONSUMER = f"{bus.STREAM.lower()}-centre"

    async def publish() -> None:
        nc = await bus.connect(NATS_URL)
        js = nc.jetstream()
        await bus.ensure_stream(js)
        for i, batch in enumerate(batches):
            await bus.publisher(js, f"agent-{i % 5}", "bench")(batch, f"bench-{i}")
        await nc.close()

    async def delete() -> None:
        nc = await bus.connect(NATS_URL)
        await nc.jetstream().delete_stream(bus.STREAM)
        await nc.close()

    asyncio.run(publish())
    t0 = time.perf_counter()
    asyncio.run(bus.consume(NATS_URL, centre.ingest, idle_exit_s=1, batch=64))
    taken = time.perf_counter() - t0 - 1.0  # less the idle second that ends the run
    monitors = monitor_frame(_monitors(10_000, "http://127.0.0.1:9", 30))
    t1 = time.perf_counter()
    decided = [minutes(centre.history.raw(h), monitors) for h in sorted(centre.touched)]
    settle = time.perf_counter() - t1
    asyncio.run(delete())
    store.dispose()
    return [
        {"case": "centre_ingest_5x10000_at_30s", "metric": "results", "value": total, "unit": "results"},
        {"case": "centre_ingest_5x10000_at_30s", "metric": "ingest_rate",
         "value": round(total / taken), "unit": "results/s"},
        {"case": "centre_ingest_5x10000_at_30s", "metric": "needed_rate", "value": round(5 * 10_000 / 30),
         "unit": "results/s"},
        {"case": "centre_ingest_5x10000_at_30s", "metric": "quorum_settle_seconds",
         "value": round(settle, 3), "unit": "s"},
        {"case": "centre_ingest_5x10000_at_30s", "metric": "minute_rows",
         "value": sum(d.height for d in decided), "unit": "rows"},
    ]  # fmt: skip


def _minute_rows(
    n_monitors: int, start: datetime, n_minutes: int, rng: np.random.Generator
) -> pl.DataFrame:
    stamps = pl.datetime_range(start, start + timedelta(minutes=n_minutes - 1), "1m",
                               time_zone="UTC", eager=True)  # fmt: skip
    frame = pl.DataFrame({"monitor": np.arange(1, n_monitors + 1, dtype=np.int64)}).join(
        pl.DataFrame({"minute": stamps}), how="cross"
    )
    n = frame.height
    return frame.with_columns(
        checks=pl.lit(2, pl.UInt32),
        down=pl.Series((rng.random(n) < 0.002).astype(np.uint32)),
        maintenance=pl.lit(0, pl.UInt32),
        latency_sum=pl.Series(np.round(rng.gamma(2.0, 20.0, n) * 2)),
        latency_n=pl.lit(2, pl.UInt32),
    ).select(pl.col(c).cast(t) for c, t in MINUTE_SCHEMA.items())


def _write_day(history: History, frame: pl.DataFrame) -> None:
    for (hour,), part in frame.group_by(pl.col("minute").dt.truncate("1h")):
        history.write_minutes(hour, part.sort("monitor", "minute"))  # type: ignore[arg-type]


def bench_slo(folder: Path) -> list[dict[str, Any]]:
    rng = np.random.default_rng(11)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    history = History(folder / "slo")
    n = 10_000
    _write_day(history, _minute_rows(n, now - timedelta(hours=24), 24 * 60, rng))
    history.roll_up(now)  # finished hours are summed as the centre's cycle does
    older = _minute_rows(n, now - timedelta(days=3), 48 * 60, rng)
    for (day,), part in older.group_by(pl.col("minute").dt.date()):
        from bastion.uptime.history import summed

        path = history.root / "hour" / f"{day:%Y%m%d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        summed(part, "1h").write_parquet(path, compression="zstd")
    monitors = pl.DataFrame({"monitor": np.arange(1, n + 1), "org": "RAL",
                             "service": [f"S{i}" for i in range(1, n + 1)]})  # fmt: skip
    slos = slo_frame([Slo("RAL", f"S{i}", 0.999, id=i) for i in range(1, n + 1)])
    timings = []
    for _ in range(3):
        t0 = time.perf_counter()
        counts = history.recent(now)
        t1 = time.perf_counter()
        rates = burn_rates(counts, monitors, slos, now)
        fired = firing(rates)
        t2 = time.perf_counter()
        timings.append((t1 - t0, t2 - t1, counts.height, len(fired)))
    best = min(timings, key=lambda t: t[0] + t[1])
    return [
        {"case": "slo_evaluation_10000", "metric": "read_seconds", "value": round(best[0], 3), "unit": "s"},
        {"case": "slo_evaluation_10000", "metric": "evaluate_seconds", "value": round(best[1], 3), "unit": "s"},
        {"case": "slo_evaluation_10000", "metric": "cycle_seconds", "value": round(best[0] + best[1], 3),
         "unit": "s"},
        {"case": "slo_evaluation_10000", "metric": "history_rows_read", "value": best[2], "unit": "rows"},
    ]  # fmt: skip


def bench_disk(folder: Path) -> list[dict[str, Any]]:
    rng = np.random.default_rng(13)
    history = History(folder / "disk")
    start = datetime(2026, 11, 2, tzinfo=UTC)
    _write_day(history, _minute_rows(1000, start, 24 * 60, rng))
    day_bytes = sum(p.stat().st_size for p in (history.root / "minute").glob("*.parquet"))
    return [
        {"case": "history_disk_1000_monitors", "metric": "minute_rows_per_day", "value": 1000 * 1440,
         "unit": "rows"},
        {"case": "history_disk_1000_monitors", "metric": "bytes_per_day", "value": day_bytes, "unit": "bytes"},
        {"case": "history_disk_1000_monitors", "metric": "projected_year_of_minutes",
         "value": round(day_bytes * 365 / 2**30, 3), "unit": "GiB"},
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the agent probes")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    load = Load()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, run in (("agent", lambda: bench_agent(args.seconds)), ("ingest", lambda: bench_ingest(folder)),
                          ("slo", lambda: bench_slo(folder)), ("disk", lambda: bench_disk(folder))):  # fmt: skip
            found = run()
            print(name, json.dumps(found, indent=1))
            results += found
    write_document(args.results, results, load, "loopback only")


if __name__ == "__main__":
    main()
