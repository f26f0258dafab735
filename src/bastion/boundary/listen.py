"""A syslog listener on UDP and TCP (or TLS) that slows senders down rather than dropping lines.

Receivers put blocks of framed lines on a queue bounded by the lines it holds;
one consumer joins blocks into batches (by size or age) and runs them through
the pipeline, each batch committed before the next is taken. When the pipeline
falls behind, the queue fills and receivers block: a TCP sender then sees its
window close (real backpressure, nothing lost); a UDP sender cannot be slowed
by any protocol, so its datagrams wait in the socket's large kernel buffer, and
the kernel's drop counter for that socket is reported rather than hidden.

Given a TLS context the TCP port speaks syslog over TLS (RFC 5425: TLS 1.2 or
later, octet-counted frames); with a client CA it takes only senders presenting
a certificate that authority signed. A failed handshake ends that connection
and is reported with the framing errors.

``stop`` ends it in order: no new TCP connections; what open connections and
the UDP socket already hold is read; every queued line goes through the
pipeline and is committed; then ``run`` returns.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bastion.boundary.pipeline import Pipeline
from bastion.boundary.source_stats import SourceStats
from bastion.boundary.sources import Chunk
from bastion.boundary.syslog import OctetCountedDecoder
from bastion.boundary.udp import open_udp, receive_blocks, socket_drops
from bastion.core.errors import FormatError, InputError

DEFAULT_UDP_BUFFER_BYTES = 64 << 20
# After stop, how long a connection or the UDP socket is read while data keeps coming.
DRAIN_SECONDS = 5.0
HANDSHAKE_SECONDS = 10.0


@dataclass(frozen=True)
class ListenerConfig:
    """What to listen on, how to batch, and how much to hold (queued lines, UDP buffer bytes)."""

    fmt: str
    host: str = "127.0.0.1"
    udp_port: int | None = None
    tcp_port: int | None = None
    batch_lines: int = 50_000
    flush_seconds: float = 1.0
    queue_lines: int = 200_000
    udp_buffer_bytes: int = DEFAULT_UDP_BUFFER_BYTES
    tls: ssl.SSLContext | None = None  # the TCP port speaks syslog over TLS (RFC 5425)


def tls_context(cert: Path, key: Path, client_ca: Path | None = None) -> ssl.SSLContext:
    """Return the server side of syslog over TLS: TLS 1.2 or later, and with ``client_ca``,
    only senders presenting a certificate that authority signed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
        if client_ca is not None:
            context.load_verify_locations(client_ca)
            context.verify_mode = ssl.CERT_REQUIRED
    except (OSError, ssl.SSLError) as exc:
        msg = f"cannot use the TLS certificate {cert}, key {key} or client CA {client_ca}: {exc}"
        raise InputError(msg) from None
    return context


@dataclass
class ListenerState:
    """Live counters and the bound ports (useful when asked for port 0)."""

    udp_port: int | None = None
    tcp_port: int | None = None
    udp_buffer_bytes: int | None = None  # what the kernel granted
    committed: int = 0  # lines through the pipeline and committed
    kernel_udp_drops: int | None = None  # last read; final once the socket is closed
    udp_receive_cpu_seconds: float = 0.0  # the UDP thread's own CPU, once it ended
    framing_errors: list[str] = field(default_factory=list)


class LineQueue:
    """A queue of byte blocks, bounded by the lines they hold; ``put`` waits while it is full."""

    def __init__(self, max_lines: int) -> None:
        self.max_lines = max_lines
        self.received = 0  # lines ever put
        self.queued = 0  # lines waiting
        self._blocks: deque[tuple[bytes, int]] = deque()
        self._changed = threading.Condition()
        self._closed = False

    def put(self, block: bytes) -> None:
        """Queue a block of newline-terminated lines, waiting while the queue is full."""
        lines = block.count(b"\n")
        with self._changed:
            # An empty queue takes any block, so one larger than the bound cannot wait forever.
            while self.queued >= self.max_lines and self._blocks:
                self._changed.wait()
            self._blocks.append((block, lines))
            self.queued += lines
            self.received += lines
            self._changed.notify_all()

    def get(self, timeout: float) -> tuple[bytes, int] | None:
        """Return the next block and its line count, or None after ``timeout`` or once drained."""
        with self._changed:
            if not self._blocks and not self._closed and timeout > 0:
                self._changed.wait(timeout)
            if not self._blocks:
                return None
            block, lines = self._blocks.popleft()
            self.queued -= lines
            self._changed.notify_all()
            return block, lines

    def close(self) -> None:
        """Say that nothing more will be put: ``get`` stops waiting once the queue is empty."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    @property
    def drained(self) -> bool:
        with self._changed:
            return self._closed and not self._blocks


class SyslogListener:
    """Receive syslog over UDP and/or TCP and feed the pipeline in batches.

    Without a pipeline it only receives: a collector takes its ``batches`` instead.
    """

    def __init__(self, pipeline: Pipeline | None, config: ListenerConfig) -> None:
        self.pipeline = pipeline
        self.config = config
        self.state = ListenerState()
        self.lines = LineQueue(config.queue_lines)
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._udp: socket.socket | None = None
        self._tcp: _TcpServer | None = None

    @property
    def received(self) -> int:
        """Return how many lines were received (queued for the pipeline) so far."""
        return self.lines.received

    def start(self) -> None:
        """Bind the sockets and start receiving (in background threads)."""
        if self.config.udp_port is not None:
            self._udp, granted = open_udp(
                self.config.host, self.config.udp_port, self.config.udp_buffer_bytes
            )
            self.state.udp_port = self._udp.getsockname()[1]
            self.state.udp_buffer_bytes = granted
            self.state.kernel_udp_drops = socket_drops(self._udp)
            self._spawn(self._receive_udp)
        if self.config.tcp_port is not None:
            self._tcp = _TcpServer((self.config.host, self.config.tcp_port), self)
            self.state.tcp_port = self._tcp.server_address[1]
            self._spawn(self._tcp.serve_forever, 0.2)

    def stop(self) -> None:
        """Stop accepting, read what the sockets already hold, and let ``run`` drain the queue.

        Safe to call from any thread but the one in ``run``, and more than once.
        """
        if self._stop.is_set():
            self._stopped.wait()
            return
        self._stop.set()
        if self._tcp is not None:
            self._tcp.shutdown()  # no more connections; the open ones drain and end
            self._tcp.server_close()  # waits for every connection's handler
        for thread in self._threads:
            thread.join()
        self.lines.close()
        self._stopped.set()

    def kernel_udp_drops(self) -> int | None:
        """Return the kernel's drops on the UDP socket so far (None without one or on no Linux)."""
        if self._udp is not None and self._udp.fileno() >= 0:
            drops = socket_drops(self._udp)
            if drops is not None:
                self.state.kernel_udp_drops = drops
        return self.state.kernel_udp_drops

    def metrics(self) -> dict[str, int | None]:
        """Return the live counters: lines received, committed and queued, and kernel UDP drops."""
        return {
            "received": self.lines.received,
            "committed": self.state.committed,
            "queued": self.lines.queued,
            "kernel_udp_drops": self.kernel_udp_drops(),
            "udp_buffer_bytes": self.state.udp_buffer_bytes,
        }

    @property
    def source(self) -> str:
        """Name what this listener receives, as its source: ``syslog://host:udp-tcp``."""
        return (
            f"syslog://{self.config.host}:{self.state.udp_port or '-'}-{self.state.tcp_port or '-'}"
        )

    def run(self) -> SourceStats:
        """Consume queued lines until ``stop``; return what the pipeline did with them."""
        if self.pipeline is None:
            msg = "a listener without a pipeline is read through its batches"
            raise TypeError(msg)
        started = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        ports = f"{self.state.udp_port or '-'}-{self.state.tcp_port or '-'}"
        return self.pipeline.ingest_chunks(
            self.batches(), source=self.source, key=f"listen-{ports}-{started}", fmt=self.config.fmt
        )

    def _spawn(self, target: Callable[..., object], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _receive_udp(self) -> None:
        assert self._udp is not None
        started = time.thread_time()
        try:
            receive_blocks(self._udp, self.lines.put, self._stop.is_set, DRAIN_SECONDS)
        finally:
            self.state.udp_receive_cpu_seconds = time.thread_time() - started
            # The socket's drop counter disappears with it: read it last, then close.
            self.kernel_udp_drops()
            self._udp.close()

    def batches(self) -> Iterator[Chunk]:
        """Yield queued lines in batches (by size or age) until ``stop`` drained the queue.

        A batch counts as committed once the next one is asked for.
        """
        offset = 0
        while True:
            blocks: list[bytes] = []
            lines = 0
            deadline = time.monotonic() + self.config.flush_seconds
            while lines < self.config.batch_lines:
                item = self.lines.get(deadline - time.monotonic())
                if item is None:
                    break
                blocks.append(item[0])
                lines += item[1]
            if blocks:
                data = b"".join(blocks)
                yield Chunk(data, offset)
                # The pipeline asks for the next chunk only once this one is committed.
                self.state.committed += lines
                offset += len(data)
            elif self.lines.drained:
                return


class _TcpHandler(socketserver.BaseRequestHandler):
    server: _TcpServer

    def handle(self) -> None:
        listener = self.server.listener
        decoder = OctetCountedDecoder()
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(HANDSHAKE_SECONDS)
            try:
                self.request.do_handshake()
            except (OSError, ssl.SSLError) as exc:
                listener.state.framing_errors.append(
                    f"{self.client_address[0]}: TLS handshake failed: {exc}"
                )
                return
        self.request.settimeout(0.2)
        drain_until: float | None = None
        while True:
            if drain_until is None and listener._stop.is_set():
                drain_until = time.monotonic() + DRAIN_SECONDS
            if drain_until is not None and time.monotonic() > drain_until:
                data = b""  # the sender never paused: end its connection here
            else:
                try:
                    data = self.request.recv(1 << 18)
                except TimeoutError:
                    if drain_until is None:
                        continue
                    data = b""  # stopping, and nothing more came: what was sent is read
                except ssl.SSLEOFError:
                    data = b""  # a TLS sender that closed without saying so: what came counts
                except OSError:
                    return
            try:
                # An empty read is the end: what is left is the sender's last line.
                frames = decoder.feed(data) if data else decoder.flush()
            except FormatError as exc:
                listener.state.framing_errors.append(f"{self.client_address[0]}: {exc}")
                return
            if frames:
                listener.lines.put(b"\n".join(frames) + b"\n")
            if not data:
                if isinstance(self.request, ssl.SSLSocket):
                    with contextlib.suppress(OSError):
                        self.request.unwrap()  # answer the sender's close_notify
                return


class _TcpServer(socketserver.ThreadingTCPServer):
    # server_close joins the connection handlers, so a stop waits for their last lines;
    # daemon threads, so a listener that failed does not keep the process alive.
    daemon_threads = True
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], listener: SyslogListener) -> None:
        self.listener = listener
        super().__init__(address, _TcpHandler)

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        """Accept a connection; over TLS, wrap it (its handshake runs in the handler's thread)."""
        connection, address = self.socket.accept()
        tls = self.listener.config.tls
        if tls is not None:
            connection = tls.wrap_socket(
                connection, server_side=True, do_handshake_on_connect=False
            )
        return connection, address

    def server_close(self) -> None:
        """Take the connections still waiting in the backlog, then close and join them all."""
        self.socket.setblocking(False)
        while True:
            try:
                connection, address = self.get_request()
            except OSError:
                break
            connection.setblocking(True)
            self.process_request(connection, address)
        super().server_close()
