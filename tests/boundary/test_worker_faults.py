"""How a worker tells a fault of the machine (wait, acknowledge nothing) from a fault of the
chunk (redeliver, then dead-letter), and what its metrics then say."""

from __future__ import annotations

import errno

import pytest
import zstandard
from nats import errors as nats_errors
from prometheus_client import generate_latest

from bastion.boundary.distributed import blocked_reason
from bastion.boundary.worker_metrics import WorkerMetrics
from bastion.core.errors import InputError, StoreError


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "disk_full"),
        (
            OSError("Error writing bytes to file. Detail: [errno 28] No space left on device"),
            "disk_full",
        ),
        (OSError(errno.EIO, "Input/output error"), "io_error"),
        (StoreError("database error: connection refused"), "database"),
        (InputError("raw chunk message without a valid 'Bastion-Offset' header"), None),
        (zstandard.ZstdError("unknown frame descriptor"), None),
        (ValueError("a parser's bug"), None),
        (nats_errors.TimeoutError(), None),
    ],
)
def test_machine_faults_block_and_chunk_faults_do_not(error: Exception, reason: str | None) -> None:
    found = blocked_reason(error)
    assert (found[0] if found else None) == reason


def test_metrics_say_why_a_worker_is_not_acknowledging() -> None:
    metrics = WorkerMetrics()
    metrics.count(lines=100, events=90)
    metrics.block("disk_full")
    text = generate_latest(metrics.registry).decode()
    assert "bastion_worker_not_acknowledging 1.0" in text
    assert 'bastion_worker_blocked{reason="disk_full"} 1.0' in text
    assert 'bastion_worker_blocked{reason="database"} 0.0' in text
    assert "bastion_worker_events_out_total 90.0" in text
    metrics.unblock()
    metrics.update_rates()
    text = generate_latest(metrics.registry).decode()
    assert "bastion_worker_not_acknowledging 0.0" in text
    assert 'bastion_worker_blocked{reason="disk_full"} 0.0' in text
    assert "bastion_worker_events_in_per_second" in text
