"""The archive's maintenance lease: one compaction or retention at a time, across machines.

Workers on several machines share one archive; compaction and retention rewrite and
delete its files, so exactly one process at a time may run them. On PostgreSQL the
lease is a session advisory lock, held on a connection of its own for as long as the
work lasts: a holder killed with SIGKILL, or cut off, loses its connection and so its
lease, with no expiry to wait for. On SQLite (one machine) it is an exclusive ``flock``
on ``<archive>/.maintenance.lock``, which the kernel likewise releases with its holder.

``wait=True`` queues behind the holder (``bastion archive compact`` run by hand);
``wait=False`` gives up at once (a worker's periodic round: someone else is doing it).
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from bastion.store import Store, lock_key

LEASE_NAME = "bastion.archive.maintenance"
LEASE_KEY = lock_key(LEASE_NAME)

log = logging.getLogger(__name__)


@dataclass
class Lease:
    """Whether this process holds the lease, and how long it waited for it."""

    held: bool
    waited_s: float = 0.0


@contextmanager
def maintenance_lease(store: Store, archive_root: Path, *, wait: bool = True) -> Iterator[Lease]:
    """Hold the archive's maintenance lease for the ``with`` block (see the module's doc)."""
    started = time.monotonic()
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as connection:
            connection.execute(text("SET application_name = 'bastion-maintenance'"))
            held = bool(
                connection.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": LEASE_KEY}
                ).scalar()
            )
            if not held and wait:
                log.info("waiting for the archive maintenance lease (held by another process)")
                connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LEASE_KEY})
                held = True
            connection.commit()
            try:
                yield Lease(held, time.monotonic() - started)
            finally:
                if held:
                    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LEASE_KEY})
                    connection.commit()
        return
    archive_root.mkdir(parents=True, exist_ok=True)
    with (archive_root / ".maintenance.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            held = True
        except BlockingIOError:
            held = False
        try:
            yield Lease(held, time.monotonic() - started)
        finally:
            if held:
                fcntl.flock(handle, fcntl.LOCK_UN)
