"""Fault 1: a worker SIGKILLed mid-batch, again and again, while two others run.

Every published event ends in the archive exactly once, and the alerts are those of
one process ingesting the same files.
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
    alerts_of,
    dns_log,
    exactly_once,
    single_process_alerts,
    wait_for,
)

pytestmark = [pytest.mark.chaos, pytest.mark.slow]
PART = 6_000
# The victim dies at each stage of a batch in turn: transformed; files written, not
# committed; committed, neither published nor acknowledged; then at a moment the test
# chooses (None).
DEATHS = ("after-write:2", "after-commit:2", "after-parse:3", None)


def test_a_worker_killed_mid_batch_repeatedly_loses_and_doubles_nothing(
    bastion: Bastion, nats_server: NatsServer, pg_cluster: PgCluster, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    steady = [bastion.worker(f"steady-{n}") for n in range(2)]
    deaths = []
    for n, stage in enumerate(DEATHS):
        victim = bastion.worker(f"victim-{n}", crash_at=stage)
        wait_for(lambda n=n: bastion.ready(f"victim-{n}"), 60, f"victim {n} to start")
        # A part of the input published once the victim listens: it gets its share.
        part = logs / f"dns-{n}.log"
        dns_log(part, PART, start=1748822400 + n * 1000)
        assert bastion.publish(part, chunk_bytes=16384)[0]["chunks"] > 20
        if stage is None:
            time.sleep(1.0)
            victim.send_signal(signal.SIGKILL)
        deaths.append(victim.wait(120))
    last = bastion.worker("victim-last")
    wait_for(lambda: bastion.ready("victim-last"), 60, "the victim's last run")

    logged = "\n".join(bastion.log(f"victim-{n}")[-1500:] for n in range(len(DEATHS)))
    assert deaths == [-signal.SIGKILL] * len(DEATHS), logged
    bastion.drain(nats_server, {"steady-0": steady[0], "steady-1": steady[1], "victim-last": last})
    exactly_once(bastion.archive, PART * len(DEATHS))
    reference = single_process_alerts(pg_cluster, tmp_path / "reference", logs)
    assert len(reference) > 10, "the input raises alerts"
    assert alerts_of(bastion.database_url) == reference
