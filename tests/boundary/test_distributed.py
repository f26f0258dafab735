"""Collectors and workers over a real NATS JetStream: every chunk processed once, even redelivered."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import own_stream

from bastion.audit import Actor
from bastion.boundary import distributed
from bastion.boundary.hunting import hunt
from bastion.boundary.pipeline import Pipeline
from bastion.core.settings import Settings
from bastion.orgs import Organisation, OrgType, save_organisation
from bastion.store import Store

pytestmark = pytest.mark.nats
HEADER = (
    "#separator \\x09\n#path\tdns\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype_name\trcode_name\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\tstring\n"
)
LINES = 30_000


@pytest.fixture
def isolated_stream(monkeypatch: pytest.MonkeyPatch, nats_url: str) -> Iterator[str]:
    """A stream, subjects and consumer of this test's own, deleted afterwards."""
    yield from own_stream(monkeypatch, nats_url, distributed, "BASTION_TEST", "workers")


def _dns_log(path: Path) -> None:
    rows = (
        f"{1748822400 + i:.6f}\tC{i}\t11.0.0.{i % 200}\t{5000 + i % 1000}\t198.18.0.53\t53\tudp\t"
        f"host{i}.example.test\tA\tNOERROR"
        for i in range(LINES)
    )
    path.write_text(HEADER + "\n".join(rows) + "\n")


def _pipeline(store: Store, tmp_path: Path) -> Pipeline:
    with store.session() as session:
        save_organisation(
            session,
            Organisation("R0A", "Trust", OrgType.TRUST, networks=("11.0.0.0/24",)),
            actor=Actor.cli("test"),
        )
    return Pipeline.open(store, Settings(data_dir=tmp_path / "data"))


def test_published_chunks_are_processed_once_even_when_redelivered(
    isolated_stream: str, nats_url: str, sqlite_store: Store, tmp_path: Path
) -> None:
    log = tmp_path / "dns.log"
    _dns_log(log)
    pipeline = _pipeline(sqlite_store, tmp_path)

    async def scenario() -> tuple[int, distributed.Worker, distributed.Worker]:
        nc = await distributed._connect(nats_url)
        js = nc.jetstream()
        await distributed.ensure_stream(js)
        report = await distributed.publish_file(js, log, chunk_size=256 * 1024)
        again = await distributed.publish_file(js, log, chunk_size=256 * 1024)  # deduplicated
        assert again.chunks == report.chunks
        # A worker that commits one chunk and dies before acknowledging it …
        crashed = distributed.Worker(pipeline, ack_wait_s=1.0)
        sub = await js.pull_subscribe(
            f"{distributed.SUBJECT_PREFIX}.>",
            durable=distributed.CONSUMER,
            config=distributed.ConsumerConfig(
                ack_policy=distributed.AckPolicy.EXPLICIT, ack_wait=1.0
            ),
        )
        first = (await sub.fetch(1, timeout=5))[0]
        await crashed.handle(first, acknowledge=False)
        await sub.unsubscribe()
        await nc.close()
        # … and a healthy one that gets everything, the unacknowledged chunk again included.
        healthy = distributed.Worker(pipeline, ack_wait_s=1.0)
        await healthy.run(nats_url, idle_exit_s=3.0)
        return report.chunks, crashed, healthy

    chunks, crashed, healthy = asyncio.run(scenario())
    assert chunks > 3
    assert sum(s.batches for s in crashed.stats.values()) == 1
    done = sum(s.batches for s in healthy.stats.values())
    redone = sum(s.batches_already_done for s in healthy.stats.values())
    # Each chunk is committed once: the crashed worker's again counts as already done. On a
    # loaded machine a slow acknowledgement can bring another chunk back: it counts the same.
    assert done - redone == chunks - 1
    assert redone >= 1
    counts = hunt(
        tmp_path / "data" / "archive",
        'SELECT count(*), count(DISTINCT "log.offset"), count(DISTINCT "organization.id") FROM events',
    ).row(0)
    assert counts == (LINES, LINES, 1)
