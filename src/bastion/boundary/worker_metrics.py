"""A boundary worker's Prometheus metrics, served on ``/metrics`` by ``boundary worker --metrics-port``.

Each worker has a registry of its own (several workers in one test process do not
share counters). What an operator watches:

- ``bastion_worker_events_in_total`` / ``_out_total``: lines taken in, events archived
  (``rate()`` of them is events per second; the ``_per_second`` gauges give the rate
  over the last few seconds for a glance without Prometheus);
- ``bastion_worker_consumer_pending``: messages on the stream not yet delivered to any
  worker (the lag), ``bastion_worker_consumer_ack_pending``: delivered, not acknowledged;
- ``bastion_worker_redeliveries_total``, ``bastion_worker_dead_letters_total``;
- ``bastion_worker_commit_seconds``: a chunk's processing and commit, end to end;
- ``bastion_worker_not_acknowledging``: 1 while the worker cannot make a batch durable
  (archive volume full, database away) and so acknowledges nothing, with the reason in
  ``bastion_worker_blocked{reason=...}``.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

BLOCK_REASONS = ("disk_full", "io_error", "database")


class WorkerMetrics:
    """The counters and gauges of one worker."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events_in = Counter("bastion_worker_events_in", "lines taken in", registry=r)
        self.events_out = Counter("bastion_worker_events_out", "events archived", registry=r)
        self.in_rate = Gauge(
            "bastion_worker_events_in_per_second", "lines in per second, recently", registry=r
        )
        self.out_rate = Gauge(
            "bastion_worker_events_out_per_second",
            "events archived per second, recently",
            registry=r,
        )
        self.batches = Counter("bastion_worker_batches", "chunks handled", ["outcome"], registry=r)
        self.pending = Gauge(
            "bastion_worker_consumer_pending", "messages not yet delivered (lag)", registry=r
        )
        self.ack_pending = Gauge(
            "bastion_worker_consumer_ack_pending", "delivered, not acknowledged", registry=r
        )
        self.redeliveries = Counter(
            "bastion_worker_redeliveries", "messages delivered more than once", registry=r
        )
        self.dead_letters = Counter(
            "bastion_worker_dead_letters", "messages sent to the dead-letter subject", registry=r
        )
        self.commit_seconds = Histogram(
            "bastion_worker_commit_seconds",
            "a chunk processed and committed",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.not_acknowledging = Gauge(
            "bastion_worker_not_acknowledging",
            "1 while no batch can be made durable, so nothing is acknowledged",
            registry=r,
        )
        self.blocked = Gauge(
            "bastion_worker_blocked", "why the worker is blocked", ["reason"], registry=r
        )
        for reason in BLOCK_REASONS:
            self.blocked.labels(reason).set(0)
        self.total_in = self.total_out = 0
        self._mark = (time.monotonic(), 0, 0)

    def count(self, lines: int, events: int) -> None:
        """Add a chunk's lines taken in and events archived."""
        self.events_in.inc(lines)
        self.events_out.inc(events)
        self.total_in += lines
        self.total_out += events

    def block(self, reason: str) -> None:
        """Say the worker acknowledges nothing, and why (one of ``BLOCK_REASONS``)."""
        self.not_acknowledging.set(1)
        for known in BLOCK_REASONS:
            self.blocked.labels(known).set(1 if known == reason else 0)

    def unblock(self) -> None:
        self.not_acknowledging.set(0)
        for known in BLOCK_REASONS:
            self.blocked.labels(known).set(0)

    def update_rates(self) -> None:
        """Set the per-second gauges from the counters since the last call."""
        now = time.monotonic()
        seen_in, seen_out = self.total_in, self.total_out
        then, was_in, was_out = self._mark
        if now > then:
            self.in_rate.set((seen_in - was_in) / (now - then))
            self.out_rate.set((seen_out - was_out) / (now - then))
        self._mark = (now, seen_in, seen_out)

    def serve(self, port: int, address: str = "127.0.0.1") -> None:
        """Serve ``/metrics`` on ``address:port`` from a background thread."""
        start_http_server(port, addr=address, registry=self.registry)
