"""A collector's Prometheus ``/metrics``: lines in and out (totals and per second), spool, latency, errors.

Counters and gauges are read from the listener and the publisher when scraped;
publish latency is a histogram the publisher feeds. The per-second figures are
over the last ``RATE_WINDOW_S`` seconds of scrapes, for a glance without PromQL;
``rate()`` over the ``_total`` counters is the usual way.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bastion.boundary.collector import ChunkPublisher
from bastion.boundary.listen import SyslogListener

RATE_WINDOW_S = 10.0
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class RateMeter:
    """The rate of a growing count over the last ``window`` seconds of samples."""

    def __init__(self, window: float = RATE_WINDOW_S) -> None:
        self.window = window
        self._samples: deque[tuple[float, int]] = deque()

    def rate(self, count: int, now: float | None = None) -> float:
        """Record ``count`` now and return its growth per second over the window."""
        now = time.monotonic() if now is None else now
        self._samples.append((now, count))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.window:
            self._samples.popleft()
        then, before = self._samples[0]
        return (count - before) / (now - then) if now > then else 0.0


class _Live(Collector):
    def __init__(self, listener: SyslogListener, publisher: ChunkPublisher) -> None:
        self.listener = listener
        self.publisher = publisher
        self.rates = {"received": RateMeter(), "published": RateMeter()}

    def collect(self) -> Iterator[Metric]:
        listener, stats = self.listener.metrics(), self.publisher.stats
        received, published = self.listener.received, stats.published_lines
        yield _counter("received_lines", "Syslog lines received", received)
        yield _counter("published_lines", "Lines JetStream confirmed", published)
        yield _gauge(
            "received_lines_per_second",
            f"Lines received per second (last {RATE_WINDOW_S:.0f} s)",
            self.rates["received"].rate(received),
        )
        yield _gauge(
            "published_lines_per_second",
            f"Lines published per second (last {RATE_WINDOW_S:.0f} s)",
            self.rates["published"].rate(published),
        )
        yield _counter(
            "published_messages", "Messages JetStream confirmed", stats.published_messages
        )
        yield _counter("spooled_messages", "Messages written to the spool", stats.spooled_messages)
        yield _counter(
            "replayed_messages", "Messages replayed from the spool", stats.replayed_messages
        )
        yield _counter(
            "duplicate_messages", "Resent messages JetStream already had", stats.duplicates
        )
        yield _gauge("spool_messages", "Messages waiting in the spool", self.publisher.spool.depth)
        yield _gauge("spool_bytes", "Bytes waiting in the spool", self.publisher.spool.bytes)
        yield _gauge(
            "in_flight_messages", "Messages sent, not yet confirmed", self.publisher.in_flight
        )
        yield _gauge(
            "queued_lines", "Lines received, waiting to be published", listener["queued"] or 0
        )
        yield _gauge("nats_connected", "1 when connected to NATS", int(self.publisher.connected))
        drops = listener["kernel_udp_drops"]
        if drops is not None:
            yield _counter("kernel_udp_drops", "Datagrams the kernel dropped", drops)
        errors = CounterMetricFamily(
            "bastion_collector_errors", "Failed publishes and connections", labels=["kind"]
        )
        for kind, count in sorted(stats.errors.items()):
            errors.add_metric([kind], count)
        yield errors


def _counter(name: str, text: str, value: float) -> Metric:
    return CounterMetricFamily(f"bastion_collector_{name}", text, value=value)


def _gauge(name: str, text: str, value: float) -> Metric:
    return GaugeMetricFamily(f"bastion_collector_{name}", text, value=value)


def collector_registry(listener: SyslogListener, publisher: ChunkPublisher) -> CollectorRegistry:
    """Return a registry of the collector's metrics; the publisher's latency is observed into it."""
    registry = CollectorRegistry(auto_describe=True)
    latency = Histogram(
        "bastion_collector_publish_latency_seconds",
        "From sending a message to JetStream's confirmation",
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    publisher.on_latency = latency.observe
    registry.register(_Live(listener, publisher))
    return registry


def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> int:
    """Serve ``/metrics`` on ``host:port`` in a background thread; return the port bound."""
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return int(server.server_port)
