"""The message bus (NATS JetStream) as every context uses it: connect, and make a work queue.

A work-queue stream keeps each message on disk until one consumer acknowledges it,
so producers (log collectors, uptime agents) lose nothing while consumers are away.
"""

from __future__ import annotations

from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError as StreamNotFound

from bastion.core.errors import InputError


async def connect(url: str, *, reconnect_forever: bool = False) -> NatsClient:
    """Connect to NATS, or raise InputError saying where it could not be reached.

    ``reconnect_forever``: once connected, a lost server is waited for however long it
    takes (a long-running worker or collector); otherwise three attempts, then closed.
    """
    nc = NatsClient()
    attempts, wait = (-1, 1) if reconnect_forever else (3, 2)
    try:
        await nc.connect(
            url, connect_timeout=5, max_reconnect_attempts=attempts, reconnect_time_wait=wait
        )
    except Exception as exc:  # nats-py raises bare OSError/NoServersError/TimeoutError
        msg = f"cannot reach NATS at {url}: {exc}"
        raise InputError(msg) from None
    return nc


async def ensure_work_queue(
    js: JetStreamContext,
    name: str,
    subjects: list[str],
    *,
    duplicate_window: float,
    max_age: float | None = None,
) -> None:
    """Create the work-queue stream ``name`` on disk if it does not exist yet."""
    try:
        await js.stream_info(name)
    except StreamNotFound:
        await js.add_stream(
            StreamConfig(
                name=name,
                subjects=subjects,
                retention=RetentionPolicy.WORK_QUEUE,
                storage=StorageType.FILE,
                duplicate_window=duplicate_window,
                max_age=max_age,
            )
        )
