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
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import zstandard
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig

from bastion.boundary.commit import batch_id_for
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
from bastion.core.bus import connect, ensure_work_queue
from bastion.core.errors import BastionError, InputError

STREAM = "BASTION_RAW"
SUBJECT_PREFIX = "bastion.raw"
CONSUMER = "bastion-workers"
CHUNK_SIZE = 768 * 1024  # raw bytes per message; compressed it stays under NATS's 1 MiB payload
DUPLICATE_WINDOW_S = 3600.0


@dataclass(frozen=True)
class PublishReport:
    source: str
    format: str
    chunks: int
    bytes: int


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


async def publish_file(
    js: JetStreamContext, path: Path, fmt: str | None = None, *, chunk_size: int = CHUNK_SIZE
) -> PublishReport:
    """Publish one file's chunks; a chunk already published (same batch id) is dropped by JetStream."""
    parser = get_parser(fmt) if fmt else detect_format(sample_lines(path), str(path))
    key = fingerprint(path)
    prime = header_lines(path)
    compressor = zstandard.ZstdCompressor(level=3)
    chunks = sent = 0
    with open_source(path) as stream:
        for chunk in read_chunks(stream, chunk_size=chunk_size):
            message = chunk_message(str(path), key, parser.name, chunk, prime, compressor)
            await js.publish(message.subject, message.payload, headers=message.headers)
            chunks += 1
            sent += len(chunk.data)
    return PublishReport(str(path), parser.name, chunks, sent)


async def publish_paths(
    nats_url: str, paths: Iterable[Path], fmt: str | None = None
) -> list[PublishReport]:
    """Connect, make sure the stream exists, and publish every file named (directories recursively)."""
    nc = await _connect(nats_url)
    try:
        js = nc.jetstream()
        await ensure_stream(js)
        return [await publish_file(js, p, fmt) for p in expand_paths(paths)]
    finally:
        await nc.close()


class Worker:
    """Pull raw chunks from the stream, process and commit each, then acknowledge it."""

    def __init__(self, pipeline: Pipeline, *, ack_wait_s: float = 60.0) -> None:
        self.pipeline = pipeline
        self.ack_wait_s = ack_wait_s
        self.stats: dict[str, SourceStats] = {}
        self.failed = 0
        self._decompressor = zstandard.ZstdDecompressor()

    async def run(self, nats_url: str, *, idle_exit_s: float | None = None, batch: int = 4) -> None:
        """Process chunks until stopped, or until none arrived for ``idle_exit_s`` seconds."""
        nc = await _connect(nats_url)
        try:
            js = nc.jetstream()
            await ensure_stream(js)
            subscription = await js.pull_subscribe(
                f"{SUBJECT_PREFIX}.>",
                durable=CONSUMER,
                config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=self.ack_wait_s),
            )
            idle = 0.0
            while idle_exit_s is None or idle < idle_exit_s:
                try:
                    messages = await subscription.fetch(batch, timeout=1.0)
                except TimeoutError:
                    idle += 1.0
                    continue
                idle = 0.0
                for message in messages:
                    await self.handle(message)
        finally:
            await nc.close()

    async def handle(self, message: Msg, *, acknowledge: bool = True) -> None:
        """Process one chunk; acknowledge it only once its outputs are committed."""
        try:
            await asyncio.to_thread(self.process, message.data, message.headers or {})
        except BastionError:
            # Bad input stays bad on redelivery: say so and stop it coming back.
            self.failed += 1
            await message.term()
            return
        if acknowledge:
            await message.ack()

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
        self.pipeline.process_chunk(chunk, split_lines(data, offset), parser, ctx, key, stats)


async def _connect(url: str) -> NatsClient:
    return await connect(url)
