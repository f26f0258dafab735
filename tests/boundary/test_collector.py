"""The collector over a real NATS JetStream: published as `boundary publish` does, spooled while
NATS is out of reach, replayed in order when it returns, nothing lost and nothing doubled."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import zstandard
from nats.js.api import AckPolicy, ConsumerConfig
from tests.boundary.test_listen import _line, _pipeline
from tests.conftest import Run, own_stream

from bastion.boundary import distributed
from bastion.boundary.collector import ChunkPublisher, Outgoing, Spool, collect
from bastion.boundary.collector_metrics import collector_registry, serve_metrics
from bastion.boundary.distributed import chunk_message
from bastion.boundary.hunting import hunt
from bastion.boundary.listen import ListenerConfig, SyslogListener
from bastion.boundary.sources import Chunk
from bastion.boundary.workers import beat
from bastion.cli import context
from bastion.core.bus import connect
from bastion.core.timeutil import utcnow
from bastion.store import Store

pytestmark = pytest.mark.nats


@pytest.fixture
def isolated_stream(monkeypatch: pytest.MonkeyPatch, nats_url: str) -> Iterator[str]:
    yield from own_stream(monkeypatch, nats_url, distributed, "BASTION_COLLECT", "workers")


class Cable:
    """A TCP proxy in front of NATS that the test unplugs (connections cut, new ones refused)."""

    def __init__(self, nats_url: str) -> None:
        host, _, port = nats_url.removeprefix("nats://").partition(":")
        self.target = (host, int(port or 4222))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"nats://127.0.0.1:{self.port}"
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def plug(self) -> None:
        self._server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)

    async def unplug(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()
        self._writers.clear()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers += [writer, up_writer]

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(1 << 16):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))


def _outgoing(key: str, index: int, compressor: zstandard.ZstdCompressor) -> Outgoing:
    data = b"".join(_line(index * 10 + i) + b"\n" for i in range(10))
    return Outgoing(
        chunk_message("syslog://test", key, "fortigate", Chunk(data, index * 1000), [], compressor),
        10,
    )


async def _stream_offsets(nats_url: str) -> list[int]:
    """The Bastion-Offset of every message the stream holds, in stream order."""
    nc = await connect(nats_url)
    try:
        js = nc.jetstream()
        state = (await js.stream_info(distributed.STREAM)).state
        offsets = []
        for seq in range(state.first_seq, state.last_seq + 1):
            message = await js.get_msg(distributed.STREAM, seq)
            offsets.append(int((message.headers or {})["Bastion-Offset"]))
        return offsets
    finally:
        await nc.close()


def test_spooled_while_nats_is_unreachable_then_replayed_in_order_once(
    isolated_stream: str, nats_url: str, tmp_path: Path
) -> None:
    cable = Cable(nats_url)
    compressor = zstandard.ZstdCompressor()

    async def scenario() -> ChunkPublisher:
        await cable.plug()
        publisher = ChunkPublisher(
            cable.url, Spool(tmp_path / "spool"), max_in_flight=4, timeout_s=0.5, retry_s=0.2
        )
        await publisher.start()
        for index in range(10):
            await publisher.submit(_outgoing("syslog-cafe", index, compressor))
        await cable.unplug()
        for index in range(10, 30):
            await publisher.submit(_outgoing("syslog-cafe", index, compressor))
        assert publisher.spool.depth >= 15  # all but what was in flight when the cable went
        await cable.plug()
        for index in range(30, 40):  # these queue behind the spool, never overtake it
            await publisher.submit(_outgoing("syslog-cafe", index, compressor))
        await publisher.close(drain_s=60)
        await cable.unplug()
        return publisher

    publisher = asyncio.run(scenario())
    assert publisher.spool.depth == 0
    assert not list((tmp_path / "spool").iterdir())
    assert publisher.stats.spooled_messages >= 25
    assert publisher.stats.errors.get("publish", 0) >= 1
    assert publisher.stats.published_lines == 400 + 10 * publisher.stats.duplicates
    assert asyncio.run(_stream_offsets(nats_url)) == [index * 1000 for index in range(40)]


def test_a_spool_left_by_a_stopped_collector_is_replayed_by_the_next(
    isolated_stream: str, nats_url: str, tmp_path: Path
) -> None:
    compressor = zstandard.ZstdCompressor()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nowhere = f"nats://127.0.0.1:{probe.getsockname()[1]}"  # nothing listens here

    async def stopped_while_unreachable() -> ChunkPublisher:
        publisher = ChunkPublisher(nowhere, Spool(tmp_path / "spool"), retry_s=0.2)
        await publisher.start()
        for index in range(12):
            await publisher.submit(_outgoing("syslog-beef", index, compressor))
        await publisher.close(drain_s=0)
        return publisher

    first = asyncio.run(stopped_while_unreachable())
    assert (first.spool.depth, first.stats.published_messages) == (12, 0)
    assert first.stats.errors["connect"] >= 1

    async def restarted() -> ChunkPublisher:
        publisher = ChunkPublisher(nats_url, Spool(tmp_path / "spool"), retry_s=0.2)
        await publisher.start()
        await publisher.submit(_outgoing("syslog-beef", 12, compressor))
        await publisher.close(drain_s=30)
        return publisher

    second = asyncio.run(restarted())
    assert (second.spool.depth, second.stats.replayed_messages) == (0, 13)
    assert asyncio.run(_stream_offsets(nats_url)) == [index * 1000 for index in range(13)]


def test_a_collector_publishes_what_workers_archive_and_reports_it_on_metrics(
    isolated_stream: str, nats_url: str, sqlite_store: Store, tmp_path: Path
) -> None:
    listener = SyslogListener(
        None, ListenerConfig("fortigate", tcp_port=0, batch_lines=700, flush_seconds=0.2)
    )
    publisher = ChunkPublisher(nats_url, Spool(tmp_path / "spool"))
    port = serve_metrics(collector_registry(listener, publisher), "127.0.0.1", 0)
    listener.start()
    collecting = threading.Thread(
        target=lambda: asyncio.run(collect(listener, publisher, chunk_size=32 * 1024))
    )
    collecting.start()
    lines = 3_000
    with socket.create_connection(("127.0.0.1", listener.state.tcp_port or 0)) as sender:
        for i in range(lines):
            frame = _line(i)
            sender.sendall(f"{len(frame)} ".encode() + frame)
    deadline = time.monotonic() + 30
    while publisher.stats.published_lines < lines:  # confirmed while the listener runs on
        assert time.monotonic() < deadline, publisher.stats
        time.sleep(0.05)
    listener.stop()
    collecting.join(timeout=60)
    assert not collecting.is_alive()
    assert publisher.stats.published_lines == lines
    assert publisher.stats.published_messages > 3  # batches cut into chunks under the size
    scraped = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
    metrics = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in scraped.decode().splitlines()
        if line.startswith("bastion_collector_") and " " in line
    }
    assert metrics["bastion_collector_received_lines_total"] == lines
    assert metrics["bastion_collector_published_lines_total"] == lines
    assert metrics["bastion_collector_spool_messages"] == 0
    assert metrics["bastion_collector_publish_latency_seconds_count"] == (
        publisher.stats.published_messages
    )
    # Existing workers read the collector's messages like any published file's.
    worker = distributed.Worker(_pipeline(sqlite_store, tmp_path), ack_wait_s=5.0)
    asyncio.run(worker.run(nats_url, idle_exit_s=2.0))
    archived = hunt(
        tmp_path / "data" / "archive", 'SELECT count(*), count(DISTINCT "source.port") FROM events'
    ).row(0)
    assert archived == (lines, lines)


def test_status_shows_the_stream_depth_and_each_consumers_lag_and_redeliveries(
    isolated_stream: str, nats_url: str, tmp_path: Path, bastion: Run
) -> None:
    assert bastion("init").exit_code == 0
    with context.cli_session() as session:  # a worker's heartbeat, as a worker writes it
        beat(session, "edge-1:42", started_at=utcnow(), state="blocked", reason="disk_full")
    missing = bastion("boundary", "status", "--nats", nats_url)
    assert missing.exit_code != 0
    assert f"no stream {isolated_stream}" in missing.output
    compressor = zstandard.ZstdCompressor()

    async def publish_then_hold_one() -> None:
        publisher = ChunkPublisher(nats_url, Spool(tmp_path / "spool"))
        await publisher.start()
        for index in range(6):
            await publisher.submit(_outgoing("syslog-f00d", index, compressor))
        await publisher.close()
        nc = await connect(nats_url)
        subscription = await nc.jetstream().pull_subscribe(
            f"{distributed.SUBJECT_PREFIX}.>",
            durable=distributed.CONSUMER,
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=0.5),
        )
        await subscription.fetch(1, timeout=5)  # held, never acknowledged …
        await asyncio.sleep(1.0)
        (again,) = await subscription.fetch(1, timeout=5)  # … so it comes back
        assert again.metadata.num_delivered == 2
        await nc.close()

    asyncio.run(publish_then_hold_one())
    shown = bastion("boundary", "status", "--nats", nats_url, "--json")
    assert shown.exit_code == 0, shown.output
    status = json.loads(shown.stdout)
    assert (status["stream"], status["messages"], status["last_seq"]) == (isolated_stream, 6, 6)
    (consumer,) = status["consumers"]
    assert consumer["name"] == distributed.CONSUMER
    assert (consumer["pending"], consumer["ack_pending"], consumer["redelivered"]) == (5, 1, 1)
    assert consumer["last_active"] is not None
    (worker,) = status["workers"]
    assert (worker["worker_id"], worker["state"], worker["reason"]) == (
        "edge-1:42",
        "blocked",
        "disk_full",
    )
    table = bastion("boundary", "status", "--nats", nats_url).stdout
    assert f"stream {isolated_stream}: 6 messages waiting" in table
    assert distributed.CONSUMER in table
    assert "workers: 1 known" in table
    assert "edge-1:42" in table
    assert "disk_full" in table


def test_listen_publish_collects_until_sigterm_and_reports_what_went_where(
    isolated_stream: str, nats_url: str, tmp_path: Path, bastion: Run
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    lines = 400

    def send_then_stop() -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                sender = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        with sender:
            sender.sendall(b"".join(_line(i) + b"\n" for i in range(lines)))
        time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)  # the command's own handler stops the listener

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    stopper = threading.Thread(target=send_then_stop)
    stopper.start()
    try:
        result = bastion(
            "boundary", "listen", "--publish", "--format", "fortigate", "--tcp", str(port),
            "--nats", nats_url, "--flush-seconds", "0.2", "--status-every", "0", "--json",
        )  # fmt: skip
    finally:
        stopper.join(60)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["received"], report["published_lines"], report["spool_messages"]) == (
        lines,
        lines,
        0,
    )
    assert (tmp_path / "data" / "spool").is_dir()  # the default spool: <data_dir>/spool
    assert asyncio.run(_stream_offsets(nats_url)) == [0]  # one batch, one chunk, offset 0
