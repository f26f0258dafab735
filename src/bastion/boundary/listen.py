"""A syslog listener on UDP and TCP that slows senders down rather than dropping their lines.

Receivers put framed lines on a bounded queue; one consumer cuts the queue into
batches (by size or age) and runs them through the pipeline. When the pipeline
falls behind, the queue fills and receivers block: a TCP sender then sees its
window close (real backpressure, nothing lost); a UDP sender cannot be slowed
by any protocol, so its datagrams wait in a large kernel buffer, and the
kernel's own drop counter is reported rather than hidden.
"""

from __future__ import annotations

import queue
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bastion.boundary.pipeline import Pipeline, SourceStats
from bastion.boundary.sources import Chunk
from bastion.boundary.syslog import OctetCountedDecoder
from bastion.core.errors import FormatError

UDP_BUFFER_BYTES = 8 << 20
MAX_DATAGRAM = 65535
_STOP = b""


@dataclass
class ListenerConfig:
    fmt: str
    host: str = "127.0.0.1"
    udp_port: int | None = None
    tcp_port: int | None = None
    batch_lines: int = 50_000
    flush_seconds: float = 1.0
    queue_lines: int = 200_000


@dataclass
class ListenerState:
    """Live counters and the bound ports (useful when asked for port 0)."""

    udp_port: int | None = None
    tcp_port: int | None = None
    received: int = 0
    framing_errors: list[str] = field(default_factory=list)


class SyslogListener:
    """Receive syslog over UDP and/or TCP and feed the pipeline in batches."""

    def __init__(self, pipeline: Pipeline, config: ListenerConfig) -> None:
        self.pipeline = pipeline
        self.config = config
        self.state = ListenerState()
        self.lines: queue.Queue[bytes] = queue.Queue(maxsize=config.queue_lines)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._udp: socket.socket | None = None
        self._tcp: socketserver.ThreadingTCPServer | None = None

    def start(self) -> None:
        """Bind the sockets and start receiving (in background threads)."""
        if self.config.udp_port is not None:
            self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_BUFFER_BYTES)
            self._udp.bind((self.config.host, self.config.udp_port))
            self._udp.settimeout(0.2)
            self.state.udp_port = self._udp.getsockname()[1]
            self._spawn(self._receive_udp)
        if self.config.tcp_port is not None:
            self._tcp = _TcpServer((self.config.host, self.config.tcp_port), self)
            self.state.tcp_port = self._tcp.server_address[1]
            self._spawn(self._tcp.serve_forever, 0.2)

    def stop(self) -> None:
        """Stop receiving; the consumer drains what was queued, then ends."""
        self._stop.set()
        if self._tcp is not None:
            self._tcp.shutdown()
            self._tcp.server_close()
        for thread in self._threads:
            thread.join()
        if self._udp is not None:
            self._udp.close()
        self.lines.put(_STOP)

    def run(self) -> SourceStats:
        """Consume queued lines until ``stop``; return what the pipeline did with them."""
        started = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        ports = f"{self.state.udp_port or '-'}-{self.state.tcp_port or '-'}"
        return self.pipeline.ingest_chunks(
            self._batches(),
            source=f"syslog://{self.config.host}:{ports}",
            key=f"listen-{ports}-{started}",
            fmt=self.config.fmt,
        )

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def put(self, line: bytes) -> None:
        """Queue one framed line, blocking while the queue is full (the backpressure)."""
        self.lines.put(line if line.endswith(b"\n") else line + b"\n")
        self.state.received += 1

    def _receive_udp(self) -> None:
        assert self._udp is not None
        while not self._stop.is_set():
            try:
                datagram = self._udp.recv(MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError:
                return
            for line in datagram.splitlines():
                if line:
                    self.put(line)

    def _batches(self) -> Iterator[Chunk]:
        offset, stopping = 0, False
        while not stopping:
            batch: list[bytes] = []
            deadline = time.monotonic() + self.config.flush_seconds
            while len(batch) < self.config.batch_lines:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    break
                try:
                    line = self.lines.get(timeout=timeout)
                except queue.Empty:
                    break
                if line == _STOP:
                    stopping = True
                    break
                batch.append(line)
            if batch:
                data = b"".join(batch)
                yield Chunk(data, offset)
                offset += len(data)


class _TcpHandler(socketserver.BaseRequestHandler):
    server: _TcpServer

    def handle(self) -> None:
        listener = self.server.listener
        decoder = OctetCountedDecoder()
        self.request.settimeout(0.5)
        while not listener._stop.is_set():
            try:
                data = self.request.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                # An empty read is the sender closing: what is left is its last line.
                frames = decoder.feed(data) if data else decoder.flush()
            except FormatError as exc:
                listener.state.framing_errors.append(f"{self.client_address[0]}: {exc}")
                return
            for frame in frames:
                listener.put(frame)
            if not data:
                return


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], listener: SyslogListener) -> None:
        self.listener = listener
        super().__init__(address, _TcpHandler)


def udp_drops() -> int | None:
    """Return the kernel's count of dropped UDP datagrams on this host, if it tells."""
    try:
        text = Path("/proc/net/udp").read_text()
    except OSError:
        return None
    drops = [int(row.split()[-1]) for row in text.splitlines()[1:] if row.split()]
    return sum(drops)
