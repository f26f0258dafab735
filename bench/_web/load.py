"""A load generator for a real HTTP server: keep-alive connections, one request in flight on each.

Run as ``python -m bench._web.load SPEC.json`` in a process of its own (so the
server's processes and the client do not share an interpreter). The spec names
the address, the requests (method, path, headers, body) cycled over, the number of
connections and the seconds to run; it prints one JSON line: responses, seconds,
status counts and latency percentiles. Plain asyncio streams, no HTTP library: a
client library's own cost would cap the rate measured.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

STAGGER = 0.025  # seconds between two connections' opening


def _request(method: str, path: str, headers: dict[str, str], body: str, host: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    raw = body.encode()
    if raw or method == "POST":
        lines.append(f"Content-Length: {len(raw)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + raw


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value)
        elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _connection(
    host: str,
    port: int,
    requests: list[bytes],
    offset: int,
    times: tuple[float, float, float],
    out: dict[str, Any],
) -> None:
    """Open one connection at ``times[0]``, warm it up until ``times[1]``, then count its
    answers until ``times[2]``."""
    opened, warm_until, until = times
    await asyncio.sleep(max(0.0, opened - time.perf_counter()))
    reader, writer = await asyncio.open_connection(host, port)
    i = offset
    try:
        while time.perf_counter() < until:
            sent = time.perf_counter()
            writer.write(requests[i % len(requests)])
            status = await _read_response(reader)
            if sent >= warm_until:
                out["latencies"].append(time.perf_counter() - sent)
                out["status"][status] = out["status"].get(status, 0) + 1
            i += 1
    finally:
        writer.close()


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the spec's load; return what it measured.

    The connections open a few milliseconds apart, as clients arrive, rather than in one
    instant: a server's processes share one listening socket, and a burst of connections
    can all be accepted by the first process to wake, leaving the others idle for the
    whole run (runs of the same case differed by half with them opened at once).
    """
    host, port = spec["host"], int(spec["port"])
    requests = [
        _request(r["method"], r["path"], r.get("headers", {}), r.get("body", ""), host)
        for r in spec["requests"]
    ]
    out: dict[str, Any] = {"latencies": [], "status": {}}
    connections = int(spec["connections"])
    start = time.perf_counter()
    started = start + STAGGER * connections + float(spec.get("warmup", 1.0))
    until = started + float(spec["seconds"])
    await asyncio.gather(
        *(
            _connection(host, port, requests, c * 7919, (start + STAGGER * c, started, until), out)
            for c in range(connections)
        )
    )
    elapsed = until - started
    latencies = sorted(out["latencies"])
    n = len(latencies)

    def pct(p: float) -> float:
        return round(latencies[min(n - 1, int(p * n))] * 1000, 2) if n else 0.0

    return {
        "responses": n,
        "seconds": round(elapsed, 3),
        "rate": round(n / elapsed, 1),
        "status": {str(k): v for k, v in sorted(out["status"].items())},
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
    }


def main() -> None:
    spec = json.loads(open(sys.argv[1], encoding="utf-8").read())  # noqa: PTH123, SIM115
    print(json.dumps(asyncio.run(run(spec))))


if __name__ == "__main__":
    main()
