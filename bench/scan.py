"""Benchmark threat scanning, on loopback only: connects/s, a 1,000-host scan, planning, memory.

* TCP connects per second from one process through the scanner's own probe path
  (``fingerprint.is_open``: limiter, non-blocking connect, close) against a listener on
  127.0.0.1, many connections in flight;
* a full scan (every check) of N registered loopback hosts 127.1.y.z with the
  default ~100-port list and politeness limits set high, folded into a SQLite store;
  nothing listens on those addresses, so this measures the connect scan, the checks'
  overhead and the folding, not TLS handshakes (the lab tests time those); the e-mail
  and DNS check asks a DNS server of the bench's own on 127.0.0.1 (an empty
  ``bench.test`` zone), never the system's resolvers;
* the scheduler planning 100,000 targets (``scheduler.plan``);
* the process's peak resident memory.

The results file records the machine's one-minute load average over the run.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from bastion import orgs, scan
from bastion.audit import Actor
from bastion.core.settings import Settings
from bastion.demo.scanlab.dnsserver import LabDns, dns_server
from bastion.scan.checks.base import Probe, ScanConfig
from bastion.scan.checks.fingerprint import is_open
from bastion.scan.politeness import LocalLimiter, Rates
from bastion.scan.scheduler import plan
from bastion.store import Store, upgrade
from bench._boundary.report import Load, write_document

RESULTS = Path(__file__).parent / "results" / "scan.json"
ZONE = """
$TTL 300
@ SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300
@ NS ns.bench.test.
ns A 127.0.0.1
"""
ACTOR = Actor.cli("bench")


async def _connects(total: int, in_flight: int) -> float:
    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    config = ScanConfig(ports=(port,), rates=Rates(1e9, 1e9))
    probe = Probe(
        scan.Target("BENCH", "127.0.0.1", "127.0.0.1", None), config, LocalLimiter(config.rates)
    )
    gate = asyncio.Semaphore(in_flight)

    async def one() -> None:
        async with gate:
            await is_open(probe, port)

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(total)))
    elapsed = time.perf_counter() - start
    server.close()
    return total / elapsed


def _full_scan(hosts: int, folder: Path) -> tuple[float, int]:
    store = Store.from_url(f"sqlite:///{folder / 'bench.db'}")
    upgrade(store.engine)
    registered = [
        orgs.Host(f"h{i}.bench.test", f"127.1.{i // 250}.{i % 250 + 1}") for i in range(hosts)
    ]
    with store.session() as session:
        orgs.save_organisation(
            session,
            orgs.Organisation("BENCH1", "Bench", orgs.OrgType.OTHER, hosts=tuple(registered)),
            actor=ACTOR,
        )
    udp, tcp = dns_server("127.0.0.1", LabDns(ZONE, "bench.test", set()))
    settings = Settings(
        data_dir=folder, scan_allow_private=True, scan_packet_rate=1e6, scan_request_rate=1e6,
        scan_banner_wait_seconds=0.2, scan_connect_timeout=2, scan_read_timeout=2,
        scan_dns_server=f"127.0.0.1:{udp.port}",
    )  # fmt: skip
    try:
        with store.session() as session:
            targets, _ = scan.organisation_targets(session, allow_private=True)
            start = time.perf_counter()
            report = scan.scan(session, targets, settings, actor=ACTOR)
            elapsed = time.perf_counter() - start
    finally:
        udp.close()
        tcp.close()
        store.dispose()
    return elapsed, len(report.scanned)


def _planning(targets: int) -> float:
    now = time.time()
    items = [scan.Target("ORG", f"h{i}", f"198.51.100.{i % 250}", None) for i in range(targets)]
    last = [now - (i % 20) * 86400.0 if i % 7 else -1.0 for i in range(targets)]
    forward = ["national cyber alert" if i % 97 == 0 else "" for i in range(targets)]
    risky = [i % 10 == 0 for i in range(targets)]
    start = time.perf_counter()
    due = plan(items, last, forward, risky, now, 7.0, 1.0)
    elapsed = time.perf_counter() - start
    assert due
    return elapsed


def run(connects: int, hosts: int, targets: int) -> list[dict[str, Any]]:
    results = []
    rate = asyncio.run(_connects(connects, 256))
    results.append(
        {
            "case": f"TCP connect+close to 127.0.0.1, {connects:,} connections, 256 in flight, one process",
            "metric": "rate",
            "value": round(rate),
            "unit": "connects/s",
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        elapsed, scanned = _full_scan(hosts, Path(folder))
    results.append(
        {
            "case": f"full scan (all checks, ~100 ports) of {scanned:,} registered loopback hosts 127.1.y.z, limits high, folded into SQLite",
            "metric": "time",
            "value": round(elapsed, 3),
            "unit": "s",
        }
    )
    planned = _planning(targets)
    results.append(
        {
            "case": f"scheduler plans {targets:,} targets (cadence, high risk, brought forward)",
            "metric": "time",
            "value": round(planned, 3),
            "unit": "s",
        }
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results.append(
        {
            "case": "peak resident memory of the benchmark process",
            "metric": "peak",
            "value": round(peak),
            "unit": "MiB",
        }
    )
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connects", type=int, default=20_000)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--targets", type=int, default=100_000)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    load = Load()
    results = run(args.connects, args.hosts, args.targets)
    for r in results:
        print(f"{r['case']:<110} {r['metric']:>5} {r['value']:>9} {r['unit']}")
    write_document(args.results, results, load, "loopback only")


if __name__ == "__main__":
    main()
