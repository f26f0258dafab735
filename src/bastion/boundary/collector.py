"""A collector: syslog received at a member's edge and published to JetStream, with no database.

The listener's batches are cut into chunks of whole lines and published as the
same messages ``bastion boundary publish`` sends (zstd, the batch id as message
id), so any ``bastion boundary worker`` processes them. Publishing keeps at most
``max_in_flight`` messages unconfirmed; the next batch is taken only when there
is room, so when NATS is slow the listener's bounded queue fills and TCP
senders wait.

When a publish fails (NATS unreachable, the stream full, no answer in time) the
message and every later one go to a spool: one file per message in a local
folder, written whole and synced before it counts. While the spool holds
anything, new messages join its end; a replayer publishes them oldest first,
one at a time, and removes each file only once JetStream confirmed it. A
message whose fate was unknown (sent, no answer) is sent again with its
message id, and JetStream's duplicate window drops it if it had arrived, so
nothing doubles; a spool left by a stopped collector is replayed by the next.
When the spool reaches ``spool_max_bytes`` the collector stops taking batches
until it shrinks: memory and disk both stay bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import zstandard
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import PubAck

from bastion.boundary.distributed import CHUNK_SIZE, ChunkMessage, chunk_message, ensure_stream
from bastion.boundary.listen import SyslogListener
from bastion.boundary.sources import Chunk, read_chunks
from bastion.core.bus import connect
from bastion.core.errors import InputError

# What a failed publish or connection raises: nats-py's errors, sockets, timeouts.
FAILURES = (NatsError, InputError, OSError, TimeoutError)
DEFAULT_SPOOL_MAX_BYTES = 1 << 30


@dataclass(frozen=True)
class Outgoing:
    """A message to publish and how many lines it carries."""

    message: ChunkMessage
    lines: int


class Spool:
    """Messages waiting on local disk, oldest first; each one file, written whole and synced."""

    def __init__(self, folder: Path, max_bytes: int = DEFAULT_SPOOL_MAX_BYTES) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.max_bytes = max_bytes
        for partial in folder.glob("*.tmp"):  # a write a crash interrupted never counted
            partial.unlink()
        self._files = deque(sorted(folder.glob("*.msg")))
        self.bytes = sum(path.stat().st_size for path in self._files)
        self._next = int(self._files[-1].stem) + 1 if self._files else 0

    @property
    def depth(self) -> int:
        """Return how many messages wait in the spool."""
        return len(self._files)

    @property
    def full(self) -> bool:
        return self.bytes >= self.max_bytes

    def append(self, out: Outgoing) -> None:
        """Write ``out`` at the end of the spool; it counts once it is synced to disk."""
        head = {"subject": out.message.subject, "headers": out.message.headers, "lines": out.lines}
        path = self.folder / f"{self._next:016d}.msg"
        partial = path.with_suffix(".tmp")
        with partial.open("wb") as file:
            file.write(json.dumps(head).encode() + b"\n" + out.message.payload)
            file.flush()
            os.fsync(file.fileno())
        partial.rename(path)
        folder = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(folder)  # the rename itself survives a power cut
        finally:
            os.close(folder)
        self._next += 1
        self._files.append(path)
        self.bytes += path.stat().st_size

    def oldest(self) -> Outgoing | None:
        """Return the oldest message, or None when the spool is empty."""
        if not self._files:
            return None
        head, _, payload = self._files[0].read_bytes().partition(b"\n")
        meta = json.loads(head)
        return Outgoing(ChunkMessage(meta["subject"], payload, meta["headers"]), meta["lines"])

    def pop(self) -> None:
        """Remove the oldest message: JetStream has it."""
        path = self._files.popleft()
        self.bytes -= path.stat().st_size
        path.unlink()


@dataclass
class PublisherStats:
    """What the publisher did: lines and messages published, spooled, replayed, failures by kind."""

    published_lines: int = 0
    published_messages: int = 0
    spooled_messages: int = 0
    replayed_messages: int = 0
    duplicates: int = 0  # messages JetStream already had: a resend of one whose answer was lost
    errors: dict[str, int] = field(default_factory=dict)
    last_error: str = ""


class ChunkPublisher:
    """Publish messages with a bounded number in flight; spool what cannot be published, replay it."""

    def __init__(
        self,
        nats_url: str,
        spool: Spool,
        *,
        max_in_flight: int = 16,
        timeout_s: float = 5.0,
        retry_s: float = 1.0,
        on_latency: Callable[[float], None] | None = None,
    ) -> None:
        self.nats_url = nats_url
        self.spool = spool
        self.max_in_flight = max_in_flight
        self.timeout_s = timeout_s
        self.retry_s = retry_s
        self.on_latency = on_latency
        self.stats = PublisherStats()
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._in_flight: deque[tuple[Outgoing, asyncio.Task[PubAck], float]] = deque()
        self._replayer: asyncio.Task[None] | None = None
        self._settling = asyncio.Lock()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def start(self) -> None:
        """Connect if NATS answers (else spool until it does) and start replaying the spool."""
        await self._connect()
        self._replayer = asyncio.create_task(self._replay())

    async def submit(self, out: Outgoing) -> None:
        """Return once ``out`` is published, in flight (within the bound) or spooled.

        Waits while the spool is full, and while ``max_in_flight`` messages are unconfirmed.
        """
        while self.spool.full:
            await asyncio.sleep(self.retry_s)
        if self.spool.depth or not self.connected:
            await self._settle_all()  # what is in flight goes first, published or spooled
            self._to_spool(out)
            return
        assert self._js is not None
        publish = self._js.publish(
            out.message.subject,
            out.message.payload,
            timeout=self.timeout_s,
            headers=out.message.headers,
        )
        self._in_flight.append((out, asyncio.ensure_future(publish), time.monotonic()))
        if len(self._in_flight) >= self.max_in_flight:
            await self._settle_oldest()
        await self._settle_done()

    async def close(self, drain_s: float = 10.0) -> None:
        """Settle what is in flight, give the replayer ``drain_s`` to empty the spool, disconnect.

        What the spool still holds stays on disk for the next collector started on it.
        """
        await self._settle_all()
        deadline = time.monotonic() + drain_s
        while self.spool.depth and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self._replayer is not None:
            self._replayer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replayer
        if self._nc is not None and not self._nc.is_closed:
            with contextlib.suppress(*FAILURES):
                await self._nc.close()

    async def _settle_all(self) -> None:
        while self._in_flight:
            await self._settle_oldest()

    async def _settle_done(self) -> None:
        """Count the confirmed messages at the head of the window, waiting for none."""
        while self._in_flight and self._in_flight[0][1].done():
            await self._settle_oldest()

    async def _settle_oldest(self) -> None:
        async with self._settling:  # the replayer settles too, between its own publishes
            if self._in_flight:
                await self._settle_head()

    async def _settle_head(self) -> None:
        out, task, started = self._in_flight[0]
        try:
            ack = await task
        except FAILURES as exc:
            self._failed("publish", exc)
            # Keep the order: wait for the later ones too, and spool them all after this one.
            await asyncio.gather(*(t for _, t, _ in self._in_flight), return_exceptions=True)
            while self._in_flight:
                self._to_spool(self._in_flight.popleft()[0])
            return
        self._in_flight.popleft()
        self._published(out, ack, started)

    def _published(self, out: Outgoing, ack: PubAck, started: float) -> None:
        self.stats.published_messages += 1
        self.stats.published_lines += out.lines
        self.stats.duplicates += bool(ack.duplicate)
        if self.on_latency is not None:
            self.on_latency(time.monotonic() - started)

    def _to_spool(self, out: Outgoing) -> None:
        self.spool.append(out)
        self.stats.spooled_messages += 1

    def _failed(self, kind: str, exc: BaseException) -> None:
        self.stats.errors[kind] = self.stats.errors.get(kind, 0) + 1
        self.stats.last_error = f"{kind}: {type(exc).__name__}: {exc}"

    async def _connect(self) -> bool:
        """Return whether NATS is connected, connecting anew when the last client gave up."""
        if self._nc is not None and not self._nc.is_closed:
            return self._nc.is_connected  # connected, or reconnecting by itself
        try:
            nc = await connect(self.nats_url)
        except FAILURES as exc:
            self._failed("connect", exc)
            return False
        try:
            js = nc.jetstream()
            await ensure_stream(js)
        except FAILURES as exc:
            self._failed("connect", exc)
            with contextlib.suppress(*FAILURES):
                await nc.close()
            return False
        self._nc, self._js = nc, js
        return True

    async def _replay(self) -> None:
        """Publish the spool oldest first, one message at a time, for as long as the collector runs."""
        while True:
            await self._settle_done()  # an idle listener's last messages count as published
            out = self.spool.oldest()
            if out is None or not await self._connect():
                await asyncio.sleep(0.05 if out is None else self.retry_s)
                continue
            assert self._js is not None
            started = time.monotonic()
            try:
                ack = await self._js.publish(
                    out.message.subject,
                    out.message.payload,
                    timeout=self.timeout_s,
                    headers=out.message.headers,
                )
            except FAILURES as exc:
                self._failed("replay", exc)
                await asyncio.sleep(self.retry_s)
                continue
            self.spool.pop()
            self.stats.replayed_messages += 1
            self._published(out, ack, started)


def collector_key() -> str:
    """Name one collector run's stream of lines; message ids start with it, so it is unique early."""
    return f"syslog-{secrets.token_hex(8)}"


async def collect(
    listener: SyslogListener,
    publisher: ChunkPublisher,
    *,
    key: str | None = None,
    chunk_size: int = CHUNK_SIZE,
    drain_s: float = 10.0,
) -> None:
    """Publish the listener's batches until it stops, then settle the publisher.

    Each batch counts as committed (for the listener's counters and signals) once
    every message of it is published, in flight or spooled.
    """
    key = key or collector_key()
    compressor = zstandard.ZstdCompressor(level=3)
    batches = listener.batches()
    await publisher.start()
    try:
        while (batch := await asyncio.to_thread(next, batches, None)) is not None:
            for piece in read_chunks(io.BytesIO(batch.data), chunk_size=chunk_size):
                chunk = Chunk(piece.data, batch.offset + piece.offset)
                message = chunk_message(
                    listener.source, key, listener.config.fmt, chunk, [], compressor
                )
                await publisher.submit(Outgoing(message, chunk.data.count(b"\n")))
    finally:
        await publisher.close(drain_s)
