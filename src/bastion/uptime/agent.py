"""A vantage point: probe every monitor on its interval and send the results in batches.

Monitors are spread over their interval (each starts at an offset of its id), so
10,000 monitors at 60 s make a steady 167 probes a second, not a burst each
minute. At most ``concurrency`` probes are in flight and at most ``batch_size``
results wait to be sent, so memory stays bounded however many monitors there
are; when sending is slower than probing, probing waits.
"""

from __future__ import annotations

import asyncio
import heapq
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx
import polars as pl

from bastion.core.types import must_match
from bastion.uptime.domain import Monitor, MonitorKind, ProbeResult
from bastion.uptime.probes import icmp_refusal, probe

Publish = Callable[[pl.DataFrame, str], Awaitable[None]]
_AGENT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def agent_name(name: str) -> str:
    """Return a valid vantage-point name (it is a NATS subject token and a file name)."""
    expected = "1-64 lower-case letters, digits and hyphens"
    return must_match(_AGENT_NAME, name.strip().lower(), "agent name", name, expected)


def unprobeable(monitors: Sequence[Monitor]) -> dict[int, str]:
    """Return the monitors this process cannot probe, with why.

    An agent that may not ping probes no ICMP monitor: its failures would read as the
    hosts being down. It says why instead, and the other vantage points decide.
    """
    pinged = [m.id for m in monitors if m.kind is MonitorKind.ICMP]
    refusal = icmp_refusal() if pinged else None
    return {} if refusal is None else dict.fromkeys(pinged, refusal)


@dataclass
class AgentStats:
    probes: int = 0
    failed: int = 0
    batches: int = 0
    peak_in_flight: int = 0


class Agent:
    """Probe ``monitors`` from one vantage point and hand batches of results to ``publish``."""

    def __init__(
        self,
        name: str,
        monitors: Sequence[Monitor],
        publish: Publish,
        *,
        concurrency: int = 20,
        batch_size: int = 2000,
        flush_s: float = 1.0,
        client: httpx.AsyncClient | None = None,
        spread: bool = True,
    ) -> None:
        self.name = agent_name(name)
        self.monitors = [m for m in monitors if not m.paused and m.kind is not MonitorKind.PUSH]
        self.skipped = unprobeable(self.monitors)
        self.monitors = [m for m in self.monitors if m.id not in self.skipped]
        self.publish = publish
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.flush_s = flush_s
        self.client = client
        self.spread = (
            spread  # False: every monitor is probed at once on start, then on its interval
        )
        self.stats = AgentStats()
        self._results: list[dict[str, object]] = []
        self._sequence = 0
        self._in_flight = 0
        self._last_sent = 0.0

    async def _flush(self) -> None:
        # An agent with nothing to say still says so every 30 s: silence is an alert.
        if not self._results and time.monotonic() - self._last_sent < 30:
            return
        self._last_sent = time.monotonic()
        rows, self._results = self._results, []
        self._sequence += 1
        batch = f"{self.name}-{time.time_ns()}-{self._sequence}"
        await self.publish(pl.DataFrame(rows, infer_schema_length=None), batch)
        self.stats.batches += 1

    async def _one(self, item: Monitor, client: httpx.AsyncClient, gate: asyncio.Semaphore) -> None:
        try:
            result: ProbeResult = await probe(item, client, agent=self.name)
            self._results.append(result.row())
            self.stats.probes += 1
            self.stats.failed += not result.ok
            if len(self._results) >= self.batch_size:
                await self._flush()
        finally:
            self._in_flight -= 1
            gate.release()

    async def run(self, *, duration_s: float | None = None) -> AgentStats:
        """Probe until cancelled, or for ``duration_s`` seconds; send what is left at the end."""
        own = self.client is None
        limits = httpx.Limits(
            max_connections=self.concurrency, max_keepalive_connections=self.concurrency
        )
        client = self.client or httpx.AsyncClient(limits=limits, verify=True)
        gate = asyncio.Semaphore(self.concurrency)
        start = time.monotonic()
        # The golden ratio spreads ids evenly over each interval.
        due = [
            (start + (m.id * 0.618034 % 1.0) * m.interval_s * self.spread, i)
            for i, m in enumerate(self.monitors)
        ]
        heapq.heapify(due)
        tasks: set[asyncio.Task[None]] = set()
        last_flush = start
        try:
            while duration_s is None or time.monotonic() - start < duration_s:
                now = time.monotonic()
                while due and due[0][0] <= now:
                    when, index = heapq.heappop(due)
                    item = self.monitors[index]
                    heapq.heappush(due, (when + item.interval_s, index))
                    await gate.acquire()
                    self._in_flight += 1
                    self.stats.peak_in_flight = max(self.stats.peak_in_flight, self._in_flight)
                    task = asyncio.create_task(self._one(item, client, gate))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                if time.monotonic() - last_flush >= self.flush_s:
                    await self._flush()
                    last_flush = time.monotonic()
                wake = due[0][0] if due else now + self.flush_s
                await asyncio.sleep(
                    max(0.0, min(wake, last_flush + self.flush_s) - time.monotonic())
                )
        finally:
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            await self._flush()
            if own:
                await client.aclose()
        return self.stats
