"""Fault 5: the archive volume fills up under a worker, then space returns.

Honestly full: the archive is a small tmpfs mounted for the test (root may mount; CI
runs as root), filled with a ballast file until the kernel says ENOSPC. The worker
must then acknowledge nothing (the stream's acknowledgement floor stays put and no
batch is committed), say why in its log, its metrics and its heartbeat, and go on
by itself once the ballast is deleted.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.chaos.harness import (
    Bastion,
    NatsServer,
    committed_batches,
    dns_log,
    exactly_once,
    free_port,
    wait_for,
    worker_row,
)
from tests.conftest import need_service

from bastion.boundary import distributed

pytestmark = [pytest.mark.chaos, pytest.mark.slow]
LINES = 10_000


@pytest.fixture
def small_volume(tmp_path: Path) -> Iterator[Path]:
    """A 48 MiB tmpfs of this test's own, unmounted afterwards."""
    volume = tmp_path / "archive-volume"
    volume.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(volume)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        need_service(f"mounting a tmpfs (needs root): {mounted.stderr.decode().strip()}")
    yield volume
    subprocess.run(["umount", "-l", str(volume)], check=False)


def _fill(volume: Path) -> Path:
    """Write a ballast file until not one more byte fits on the volume; return it."""
    ballast = volume / "ballast"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT)
    size = 1 << 20
    try:
        while size:
            try:
                os.write(fd, b"\0" * size)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                size //= 2
    finally:
        os.close(fd)
    return ballast


def _metrics(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    return {
        name: float(value)
        for line in text.splitlines()
        if line and not line.startswith("#")
        for name, value in [line.rsplit(" ", 1)]
    }


def test_a_full_archive_volume_stops_acknowledgements_until_space_returns(
    bastion: Bastion, nats_server: NatsServer, small_volume: Path, tmp_path: Path
) -> None:
    bastion.extra_env["BASTION_ARCHIVE_PATH"] = str(small_volume / "archive")
    log = tmp_path / "dns.log"
    dns_log(log, LINES)
    chunks = bastion.publish(log)[0]["chunks"]
    ballast = _fill(small_volume)
    port = free_port()
    worker = bastion.worker("worker", "--metrics-port", str(port))

    wait_for(lambda: "archive volume full" in bastion.log("worker"), 60, "the worker to say why")
    wait_for(lambda: _metrics(port).get("bastion_worker_not_acknowledging") == 1, 20, "metrics")
    assert _metrics(port)['bastion_worker_blocked{reason="disk_full"}'] == 1
    wait_for(lambda: worker_row(bastion.database_url, "worker")["state"] == "blocked", 20, "beat")
    assert "No space left on device" in worker_row(bastion.database_url, "worker")["reason"]
    stream = nats_server.stream(distributed.STREAM)
    consumer = stream["consumers"][distributed.CONSUMER]
    assert consumer["ack_floor"] == 0  # nothing acknowledged …
    assert stream["messages"] == chunks  # … so nothing left the stream
    assert committed_batches(bastion.database_url) == 0

    ballast.unlink()  # space returns
    wait_for(lambda: nats_server.stream(distributed.STREAM)["messages"] == 0, 120, "the backlog")
    wait_for(lambda: _metrics(port).get("bastion_worker_not_acknowledging") == 0, 20, "unblocked")
    assert _metrics(port)["bastion_worker_events_out_total"] == LINES
    assert "acknowledging again" in bastion.log("worker")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(60) == 0
    exactly_once(small_volume / "archive", LINES)
