"""Faults 4 and 6: a collector killed mid-file, and a poison message.

4. Killed between a chunk JetStream acknowledged and its checkpoint, a collector run
   again resumes from its checkpoint, re-publishes that one chunk, and the stream's
   duplicate window drops it: the stream holds each chunk once.
6. A chunk that fails every time is tried ``--max-deliver`` times, then goes to the
   dead-letter subject with its reason, and the chunks behind it flow on.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest
from tests.chaos.harness import Bastion, NatsServer, dns_log, exactly_once, worker_row

from bastion.boundary import distributed
from bastion.boundary.sources import fingerprint, read_chunks
from bastion.core import bus

pytestmark = [pytest.mark.chaos, pytest.mark.slow]
LINES = 10_000
CHUNK = 16384


def test_a_collector_killed_mid_file_resumes_from_its_checkpoint(
    bastion: Bastion, nats_server: NatsServer, tmp_path: Path
) -> None:
    log = tmp_path / "dns.log"
    dns_log(log, LINES)
    with log.open("rb") as stream:
        total = sum(1 for _ in read_chunks(stream, chunk_size=CHUNK))
    argv = (
        "boundary",
        "publish",
        str(log),
        "--nats",
        bastion.nats_url,
        "--chunk-bytes",
        str(CHUNK),
    )

    assert bastion.run(*argv, crash_at="after-publish:7") == -signal.SIGKILL
    checkpoint = json.loads((bastion.data_dir / "publish" / f"{fingerprint(log)}.json").read_text())
    assert checkpoint["done"] is False
    assert nats_server.stream(distributed.STREAM)["messages"] == 7  # the 7th acknowledged

    again = bastion.run(*argv)[0]
    assert again["resumed_at"] == checkpoint["offset"] > 0
    assert again["duplicates"] == 1  # the 7th chunk, dropped by the duplicate window
    assert again["chunks"] == total - 6
    assert nats_server.stream(distributed.STREAM)["messages"] == total

    bastion.drain(nats_server, {"worker": bastion.worker("worker")})
    exactly_once(bastion.archive, LINES)
    assert bastion.run(*argv)[0]["status"] == "already published"


def _poison(url: str) -> None:
    """Two chunks no worker can read: a payload that is not zstd, and one without its offset."""

    async def send() -> None:
        nc = await bus.connect(url)
        js = nc.jetstream()
        await distributed.ensure_stream(js)
        headers = {
            "Bastion-Source": "edge.log", "Bastion-Key": "k" * 32, "Bastion-Format": "zeek",
            "Bastion-Offset": "0", "Bastion-Prime": "[]",
        }  # fmt: skip
        subject = f"{distributed.SUBJECT_PREFIX}.zeek"
        await js.publish(subject, b"not zstd at all", headers=headers | {"Nats-Msg-Id": "p-1"})
        no_offset = {k: v for k, v in headers.items() if k != "Bastion-Offset"}
        await js.publish(subject, b"", headers=no_offset | {"Nats-Msg-Id": "p-2"})
        await nc.close()

    asyncio.run(send())


def _dead_letters(url: str) -> list[dict[str, str]]:
    async def read() -> list[dict[str, str]]:
        nc = await bus.connect(url)
        js = nc.jetstream()
        sub = await js.pull_subscribe(
            f"{distributed.SUBJECT_PREFIX}-dead.>",
            durable="reader",
            stream=f"{distributed.STREAM}_DEAD",
        )
        messages = await sub.fetch(10, timeout=5)
        await nc.close()
        return [dict(m.headers or {}) | {"subject": m.subject} for m in messages]

    return asyncio.run(read())


def test_a_poison_message_is_dead_lettered_and_the_stream_flows_on(
    bastion: Bastion, nats_server: NatsServer, tmp_path: Path
) -> None:
    _poison(bastion.nats_url)
    log = tmp_path / "dns.log"
    dns_log(log, LINES)
    bastion.publish(log)
    bastion.drain(nats_server, {"worker": bastion.worker("worker", "--max-deliver", "3")})

    dead = sorted(_dead_letters(bastion.nats_url), key=lambda h: h["Nats-Msg-Id"])
    assert [h["Nats-Msg-Id"] for h in dead] == ["p-1", "p-2"]
    assert {h["Bastion-Deliveries"] for h in dead} == {"3"}
    assert {h["subject"] for h in dead} == {f"{distributed.SUBJECT_PREFIX}-dead.zeek"}
    assert "ZstdError" in dead[0]["Bastion-Reason"]
    assert "Bastion-Offset" in dead[1]["Bastion-Reason"]
    assert "dead-lettered after 3 deliveries" in bastion.log("worker")
    exactly_once(bastion.archive, LINES)
    assert worker_row(bastion.database_url, "worker")["dead_letters"] == 2
