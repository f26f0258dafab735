"""Faults 2 and 3: the NATS server, then PostgreSQL, restarted in the middle of a run.

Each fault strikes while a process is frozen at a known point (a crash point's SIGSTOP):
a collector between two chunks, a worker between its commit and its acknowledgement,
a worker between writing a batch's files and committing them. Then it is let go, and
must carry on by itself: nothing lost, nothing doubled, nothing half committed.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from tests.chaos.harness import (
    Bastion,
    NatsServer,
    PgCluster,
    dns_log,
    exactly_once,
    frozen,
    wait_for,
    worker_row,
)

pytestmark = [pytest.mark.chaos, pytest.mark.slow]
LINES = 15_000


def test_nats_restarted_mid_run_loses_and_doubles_nothing(
    bastion: Bastion, nats_server: NatsServer, tmp_path: Path
) -> None:
    log = tmp_path / "dns.log"
    dns_log(log, LINES)
    # The paused worker alone first, so that it surely reaches its third commit.
    # No --idle-exit: while JetStream recovers, fetches time out as if there were nothing to do.
    paused = bastion.worker("paused", crash_at="after-commit:3:STOP")
    wait_for(lambda: bastion.ready("paused"), 60, "a worker")
    collector = bastion.start(
        "boundary", "publish", str(log), "--nats", bastion.nats_url, "--chunk-bytes", "16384",
        log="collector", crash_at="after-publish:40:STOP",
    )  # fmt: skip
    wait_for(
        lambda: frozen(collector) and frozen(paused), 60, "collector and worker frozen",
        tell=lambda: f"{collector.poll()} {paused.poll()}\n" + bastion.logs("collector", "paused"),
    )  # fmt: skip
    steady = bastion.worker("steady")
    wait_for(lambda: bastion.ready("steady"), 60, "a second worker")

    nats_server.kill()  # SIGKILL: the file store is all that is left
    time.sleep(1.5)
    nats_server.start()
    collector.send_signal(signal.SIGCONT)
    paused.send_signal(signal.SIGCONT)

    assert collector.wait(120) == 0, bastion.log("collector")[-3000:]
    bastion.drain(nats_server, {"steady": steady, "paused": paused})
    for name in ("steady", "paused"):
        assert worker_row(bastion.database_url, name)["state"] == "stopped"
    exactly_once(bastion.archive, LINES)


def test_postgres_restarted_mid_run_half_commits_nothing(
    bastion: Bastion, nats_server: NatsServer, pg_cluster: PgCluster, tmp_path: Path
) -> None:
    log = tmp_path / "dns.log"
    dns_log(log, LINES)
    assert bastion.publish(log, chunk_bytes=16384)[0]["chunks"] > 50  # collectors need no SQL
    paused = bastion.worker("paused", crash_at="after-write:3:STOP")
    wait_for(lambda: frozen(paused), 60, "a worker frozen between its files and its commit")
    steady = bastion.worker("steady")
    wait_for(lambda: bastion.ready("steady"), 60, "a second worker")

    pg_cluster.stop("immediate")  # a crash: connections cut, no checkpoint
    paused.send_signal(signal.SIGCONT)  # its commit now meets no database
    time.sleep(4.0)
    pg_cluster.start()

    bastion.drain(nats_server, {"steady": steady, "paused": paused})
    assert "not acknowledging: database unavailable" in bastion.log("paused")
    exactly_once(bastion.archive, LINES)
