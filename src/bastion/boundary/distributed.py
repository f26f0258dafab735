"""Beyond one machine: collectors publish raw chunks to NATS JetStream, workers process them.

A collector reads a source in chunks and publishes each one, zstd-compressed,
to ``bastion.raw.<format>`` on a work-queue stream, with the batch id as the
message id (JetStream drops a re-published duplicate). Any number of workers pull
from one durable consumer, run the chunk through the same ``transform`` as the
embedded pipeline, commit its outputs, and only then acknowledge it. A worker
that dies before acknowledging loses nothing: the chunk is redelivered, and
because every sink is idempotent by batch id, nothing doubles either.

Formats whose header lines give meaning to later lines (Zeek TSV) travel with
those header lines in the message, so any worker can read any chunk.

Under faults (each proven by a test in ``tests/chaos``):

- a collector keeps a checkpoint per file (``<data_dir>/publish/<key>.json``, the end
  of the last chunk JetStream acknowledged): killed and restarted, it resumes there,
  and a chunk it re-publishes is dropped by the stream's duplicate window;
- collectors and workers reconnect to a restarted NATS by themselves; a publish not
  acknowledged is retried (same message id, so never stored twice);
- a worker that cannot make a chunk durable (archive volume full, database away)
  keeps the message in progress and retries in place: it acknowledges nothing, says
  why in its log and metrics, and goes on when the fault clears;
- a chunk that fails for what it is (corrupt payload, bad headers, a parser error) is
  redelivered up to ``max_deliver`` times, then published to the dead-letter subject
  ``<prefix>-dead.<format>`` with the reason, and taken off the stream.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl
import zstandard
from nats import errors as nats_errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from sqlalchemy.exc import DBAPIError

from bastion.boundary.commit import batch_id_for
from bastion.boundary.crashpoints import crash_point
from bastion.boundary.lines import split_lines
from bastion.boundary.parsers import ParseContext, detect_format, get_parser
from bastion.boundary.pipeline import Pipeline
from bastion.boundary.resume import header_lines
from bastion.boundary.source_stats import SourceStats
from bastion.boundary.sources import (
    Chunk,
    expand_paths,
    fingerprint,
    open_source,
    read_chunks,
    sample_lines,
)
from bastion.boundary.worker_metrics import WorkerMetrics
from bastion.boundary.workers import (
    BEAT_SECONDS,
    BLOCKED,
    RUNNING,
    STOPPED,
    beat,
    default_worker_id,
)
from bastion.core.bus import connect, ensure_work_queue
from bastion.core.errors import InputError, StoreError
from bastion.core.timeutil import utcnow

STREAM = "BASTION_RAW"
SUBJECT_PREFIX = "bastion.raw"
CONSUMER = "bastion-workers"
CHUNK_SIZE = 768 * 1024  # raw bytes per message; compressed it stays under NATS's 1 MiB payload
DUPLICATE_WINDOW_S = 3600.0
MAX_DELIVER = 5  # a chunk failing this many times goes to the dead-letter subject
RETRY_MAX_S = 5.0  # the longest wait between two tries of a blocked commit or publish

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishReport:
    source: str
    format: str
    chunks: int
    bytes: int
    resumed_at: int = 0  # the byte offset a checkpoint let this run start from
    duplicates: int = 0  # chunks the stream had already (dropped by its duplicate window)
    status: str = "published"  # or "already published"


def dead_subject(fmt: str) -> str:
    """The dead-letter subject of raw chunks of format ``fmt``."""
    return f"{SUBJECT_PREFIX}-dead.{fmt}"


@dataclass(frozen=True)
class ChunkMessage:
    """One raw chunk as a JetStream message: subject, zstd payload, headers (message id first)."""

    subject: str
    payload: bytes
    headers: dict[str, str]


def chunk_message(
    source: str,
    key: str,
    fmt: str,
    chunk: Chunk,
    prime: list[str],
    compressor: zstandard.ZstdCompressor,
) -> ChunkMessage:
    """Build the message of one chunk of source ``key``; its id is the chunk's batch id."""
    headers = {
        "Nats-Msg-Id": batch_id_for(key, chunk.offset),
        "Bastion-Source": source,
        "Bastion-Key": key,
        "Bastion-Format": fmt,
        "Bastion-Offset": str(chunk.offset),
        "Bastion-Prime": json.dumps(prime),
    }
    return ChunkMessage(f"{SUBJECT_PREFIX}.{fmt}", compressor.compress(chunk.data), headers)


async def ensure_stream(js: JetStreamContext) -> None:
    """Create the work-queue stream of raw chunks if it does not exist yet."""
    await ensure_work_queue(
        js, STREAM, [f"{SUBJECT_PREFIX}.>"], duplicate_window=DUPLICATE_WINDOW_S
    )


async def ensure_dead_stream(js: JetStreamContext) -> None:
    """Create the stream of dead letters (kept until an operator takes them) if need be."""
    await ensure_work_queue(
        js, f"{STREAM}_DEAD", [f"{SUBJECT_PREFIX}-dead.>"], duplicate_window=DUPLICATE_WINDOW_S
    )


class PublishCheckpoints:
    """A collector's progress per file, on its own disk: no database at the edge.

    One small JSON file per source key, replaced atomically after each chunk JetStream
    acknowledged: ``{"path", "format", "offset", "done"}``.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _file(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str) -> dict[str, object] | None:
        try:
            found: dict[str, object] = json.loads(self._file(key).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return found

    def save(self, key: str, *, path: Path, fmt: str, offset: int, done: bool) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self._file(key)
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        record = {"path": str(path), "format": fmt, "offset": offset, "done": done}
        temporary.write_text(json.dumps(record), encoding="utf-8")
        temporary.replace(target)


async def publish_acked(
    js: JetStreamContext, subject: str, payload: bytes, headers: dict[str, str]
) -> bool:
    """Publish until JetStream acknowledges (NATS away: wait for it); return whether a duplicate.

    The message id travels in the headers, so a publish retried after a lost
    acknowledgement is stored once.
    """
    delay = 0.2
    while True:
        try:
            ack = await js.publish(subject, payload, headers=headers, timeout=5.0)
        except nats_errors.MaxPayloadError:
            raise
        except nats_errors.Error as exc:
            log.warning(
                "publish to %s not acknowledged (%s); retrying in %.1fs", subject, exc, delay
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)
            continue
        return bool(ack.duplicate)


async def publish_file(
    js: JetStreamContext,
    path: Path,
    fmt: str | None = None,
    *,
    chunk_size: int = CHUNK_SIZE,
    checkpoints: PublishCheckpoints | None = None,
) -> PublishReport:
    """Publish one file's chunks; a chunk already published (same batch id) is dropped by JetStream.

    With ``checkpoints``, a file is read on from the end of its last acknowledged chunk
    (chunks fall where its content puts them, so they keep their batch ids), and a
    finished one is skipped.
    """
    key = fingerprint(path)
    known = checkpoints.get(key) if checkpoints else None
    if known is not None and not fmt:
        fmt = str(known["format"])
    parser = get_parser(fmt) if fmt else detect_format(sample_lines(path), str(path))
    if known is not None and known.get("done"):
        return PublishReport(str(path), parser.name, 0, 0, status="already published")
    start = int(str(known["offset"])) if known is not None else 0
    prime = header_lines(path)
    compressor = zstandard.ZstdCompressor(level=3)
    chunks = sent = duplicates = 0
    with open_source(path) as stream:
        for chunk in read_chunks(stream, start=start, chunk_size=chunk_size):
            message = chunk_message(str(path), key, parser.name, chunk, prime, compressor)
            duplicates += await publish_acked(js, message.subject, message.payload, message.headers)
            crash_point("after-publish")
            if checkpoints is not None:
                end = chunk.offset + len(chunk.data)
                checkpoints.save(key, path=path, fmt=parser.name, offset=end, done=False)
            chunks += 1
            sent += len(chunk.data)
    if checkpoints is not None:
        checkpoints.save(key, path=path, fmt=parser.name, offset=start + sent, done=True)
    return PublishReport(
        str(path), parser.name, chunks, sent, resumed_at=start, duplicates=duplicates
    )


async def publish_paths(
    nats_url: str,
    paths: Iterable[Path],
    fmt: str | None = None,
    *,
    checkpoints: PublishCheckpoints | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> list[PublishReport]:
    """Connect, make sure the stream exists, and publish every file named (directories recursively).

    A NATS server lost on the way is waited for: the collector reconnects by itself.
    """
    nc = await connect(nats_url, reconnect_forever=True)
    try:
        js = nc.jetstream()
        await ensure_stream(js)
        return [
            await publish_file(js, p, fmt, checkpoints=checkpoints, chunk_size=chunk_size)
            for p in expand_paths(paths)
        ]
    finally:
        await nc.close()


def blocked_reason(exc: BaseException) -> tuple[str, str] | None:
    """Say why a chunk cannot be made durable now (a fault of the machine, not the chunk).

    Return ``(metric reason, one line)``, or None when the chunk itself is at fault.
    """
    if isinstance(exc, OSError) and not isinstance(exc, nats_errors.Error):
        # Arrow's writers say ENOSPC in their message, without setting errno.
        if exc.errno == errno.ENOSPC or os.strerror(errno.ENOSPC) in str(exc):
            return "disk_full", f"archive volume full: {exc}"
        return "io_error", f"archive write failed: {exc}"
    if isinstance(exc, StoreError | DBAPIError):
        return "database", f"database unavailable: {str(exc).splitlines()[0]}"
    return None


class Worker:
    """Pull raw chunks from the stream, process and commit each, then acknowledge it."""

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        ack_wait_s: float = 60.0,
        max_deliver: int = MAX_DELIVER,
        retry_delay_s: float = 1.0,
        worker_id: str | None = None,
        metrics: WorkerMetrics | None = None,
        maintenance: Callable[[], object] | None = None,
        maintain_every_s: float = 0.0,
    ) -> None:
        self.pipeline = pipeline
        self.ack_wait_s = ack_wait_s
        self.max_deliver = max_deliver
        self.retry_delay_s = retry_delay_s
        self.worker_id = worker_id or default_worker_id()
        self.metrics = metrics or WorkerMetrics()
        self.maintenance = maintenance
        self.maintain_every_s = maintain_every_s
        self.stats: dict[str, SourceStats] = {}
        self.failed = 0  # deliveries that failed for the chunk itself
        self.dead_letters = 0
        self.blocked: str = ""  # why nothing is acknowledged now; empty when all is well
        self.started_at: datetime = utcnow()
        self.stopping = False  # set by ``stop``: finish the chunk in hand, then exit
        self._js: JetStreamContext | None = None
        self._decompressor = zstandard.ZstdDecompressor()

    async def run(self, nats_url: str, *, idle_exit_s: float | None = None, batch: int = 4) -> None:
        """Process chunks until stopped, or until none arrived for ``idle_exit_s`` seconds."""
        nc = await connect(nats_url, reconnect_forever=True)
        background: list[asyncio.Task[None]] = []
        try:
            js = self._js = nc.jetstream()
            subscription = await self._subscribe(js)
            background.append(asyncio.create_task(self._heartbeat(js)))
            if self.maintenance is not None and self.maintain_every_s > 0:
                background.append(asyncio.create_task(self._maintain()))
            idle = 0.0
            while not self.stopping and (idle_exit_s is None or idle < idle_exit_s):
                try:
                    messages = await subscription.fetch(batch, timeout=1.0)
                except TimeoutError:  # nats-py raises both its own and asyncio's
                    idle += 1.0
                    continue
                except nats_errors.Error as exc:  # NATS away: the client reconnects by itself
                    log.warning("fetching from NATS failed (%s); retrying", exc)
                    await asyncio.sleep(0.5)
                    continue
                idle = 0.0
                for message in messages:
                    await self.handle(message)
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await asyncio.to_thread(self._beat, STOPPED)
            await nc.close()

    def stop(self) -> None:
        """Stop after the chunk in hand (SIGTERM from systemd, say): commit, acknowledge, exit."""
        self.stopping = True

    async def _subscribe(self, js: JetStreamContext) -> JetStreamContext.PullSubscription:
        """Bind to the durable consumer, waiting for NATS (starting, restarting, slow) if need be."""
        while True:
            try:
                await ensure_stream(js)
                return await js.pull_subscribe(
                    f"{SUBJECT_PREFIX}.>",
                    durable=CONSUMER,
                    config=ConsumerConfig(
                        ack_policy=AckPolicy.EXPLICIT, ack_wait=self.ack_wait_s, max_deliver=-1
                    ),
                )
            except nats_errors.Error as exc:
                log.warning("cannot bind to the stream yet (%s); retrying", exc)
                await asyncio.sleep(1.0)

    async def handle(self, message: Msg, *, acknowledge: bool = True) -> None:
        """Process one chunk; acknowledge it only once its outputs are committed."""
        deliveries = message.metadata.num_delivered if message.reply else 1
        if deliveries > 1:
            self.metrics.redeliveries.inc()
        delay = self.retry_delay_s
        while True:
            started = time.perf_counter()
            try:
                await asyncio.to_thread(self.process, message.data, message.headers or {})
            except Exception as exc:
                why = blocked_reason(exc)
                if why is None:
                    await self._reject(message, exc, deliveries)
                    return
                self._block(*why)
                with suppress(nats_errors.Error):
                    await message.in_progress()  # ours still: not redelivered meanwhile
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)
                if self.stopping:  # told to stop while blocked: leave it to another worker
                    return
                continue
            self.metrics.commit_seconds.observe(time.perf_counter() - started)
            break
        if self.blocked:
            log.warning("worker %s acknowledging again: %s cleared", self.worker_id, self.blocked)
            self.blocked = ""
            self.metrics.unblock()
        if acknowledge:
            with suppress(nats_errors.Error):  # lost with NATS: redelivered, counted as done
                await message.ack()

    def _block(self, reason: str, line: str) -> None:
        if self.blocked != line:
            log.error("worker %s not acknowledging: %s; retrying", self.worker_id, line)
        self.blocked = line
        self.metrics.block(reason)

    async def _reject(self, message: Msg, exc: Exception, deliveries: int) -> None:
        """A chunk failed for what it is: redeliver it, or dead-letter it after ``max_deliver``."""
        self.failed += 1
        reason = f"{type(exc).__name__}: {exc}"[:1000]
        headers = dict(message.headers or {})
        if deliveries < self.max_deliver or self._js is None:
            log.warning(
                "chunk %s failed (delivery %d): %s", headers.get("Nats-Msg-Id"), deliveries, reason
            )
            with suppress(nats_errors.Error):
                await message.nak(delay=self.retry_delay_s)
            return
        headers.update(
            {
                "Bastion-Reason": reason,
                "Bastion-Deliveries": str(deliveries),
                "Bastion-Subject": message.subject,
            }
        )
        try:
            await ensure_dead_stream(self._js)
        except nats_errors.Error as exc:  # NATS away: the chunk comes back, and is tried again
            log.warning("dead-letter stream not reachable (%s); chunk left for later", exc)
            return
        fmt = headers.get("Bastion-Format", "unknown")
        await publish_acked(
            self._js, dead_subject(fmt if fmt.isidentifier() else "unknown"), message.data, headers
        )
        with suppress(nats_errors.Error):
            await message.term()
        self.dead_letters += 1
        self.metrics.dead_letters.inc()
        log.error(
            "chunk %s dead-lettered after %d deliveries: %s",
            headers.get("Nats-Msg-Id"),
            deliveries,
            reason,
        )

    def _beat(self, state: str = RUNNING) -> None:
        """Record this worker's heartbeat; a database away is said in the log, not raised."""
        try:
            with self.pipeline.store.session() as session:
                beat(
                    session,
                    self.worker_id,
                    started_at=self.started_at,
                    state=BLOCKED if self.blocked and state == RUNNING else state,
                    reason=self.blocked,
                    batches=sum(s.batches for s in self.stats.values()),
                    events=sum(s.events for s in self.stats.values()),
                    dead_letters=self.dead_letters,
                )
        except (StoreError, DBAPIError) as exc:
            log.warning("heartbeat of %s not recorded: %s", self.worker_id, exc)

    async def _heartbeat(self, js: JetStreamContext) -> None:
        while True:
            await asyncio.to_thread(self._beat)
            self.metrics.update_rates()
            with suppress(nats_errors.Error):
                info = await js.consumer_info(STREAM, CONSUMER)
                self.metrics.pending.set(info.num_pending or 0)
                self.metrics.ack_pending.set(info.num_ack_pending or 0)
            await asyncio.sleep(BEAT_SECONDS)

    async def _maintain(self) -> None:
        """Run compaction and retention every so often (whoever holds the lease does the work)."""
        assert self.maintenance is not None
        while True:
            await asyncio.sleep(self.maintain_every_s)
            try:
                await asyncio.to_thread(self.maintenance)
            except Exception:  # a failed round is retried the next
                log.exception("archive maintenance failed")

    def process(self, payload: bytes, headers: dict[str, str]) -> None:
        """Decompress, transform and commit one chunk (runs in a worker thread)."""
        try:
            source, key = headers["Bastion-Source"], headers["Bastion-Key"]
            fmt, offset = headers["Bastion-Format"], int(headers["Bastion-Offset"])
            prime = json.loads(headers.get("Bastion-Prime", "[]"))
        except (KeyError, ValueError) as exc:
            msg = f"raw chunk message without a valid {exc} header"
            raise InputError(msg) from None
        parser = get_parser(fmt)
        ctx = ParseContext(source=source, timezone=self.pipeline.timezone)
        if prime:
            parser.parse(pl.Series("line", prime, dtype=pl.String), ctx)
        data = self._decompressor.decompress(payload)
        chunk = Chunk(data, offset)
        stats = self.stats.setdefault(key, SourceStats(source, parser.name))
        lines, events, done = stats.lines, stats.events, stats.batches_already_done
        self.pipeline.process_chunk(chunk, split_lines(data, offset), parser, ctx, key, stats)
        again = stats.batches_already_done > done
        self.metrics.batches.labels("already_done" if again else "committed").inc()
        self.metrics.count(stats.lines - lines, 0 if again else stats.events - events)


async def _connect(url: str) -> NatsClient:
    return await connect(url)
