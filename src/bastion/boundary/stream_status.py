"""What the distributed boundary's stream holds and how far its consumers are: read from JetStream.

The stream's depth is the chunks published and not yet acknowledged (on a
work-queue stream a message leaves once a worker acknowledges it); each
consumer says how many of them wait for it (pending), how many it holds
unacknowledged, how many were delivered more than once, and when it last
pulled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nats.js.errors import NotFoundError

from bastion.boundary import distributed
from bastion.core.bus import connect
from bastion.core.errors import InputError


@dataclass(frozen=True)
class ConsumerStatus:
    """One durable consumer: what waits for it, what it holds, what came back."""

    name: str
    pending: int  # messages in the stream not yet delivered to it
    ack_pending: int  # delivered, not yet acknowledged
    redelivered: int
    waiting_pulls: int  # workers waiting for messages
    last_active: datetime | None


@dataclass(frozen=True)
class StreamStatus:
    """The raw-chunk stream: its depth in messages and bytes, and its consumers."""

    stream: str
    messages: int
    bytes: int
    first_seq: int
    last_seq: int
    consumers: list[ConsumerStatus]


async def stream_status(nats_url: str) -> StreamStatus:
    """Return the raw-chunk stream's depth and consumers, or say that nothing created it yet."""
    nc = await connect(nats_url)
    try:
        js = nc.jetstream()
        try:
            info = await js.stream_info(distributed.STREAM)
        except NotFoundError:
            msg = (
                f"no stream {distributed.STREAM} at {nats_url}: start a worker or a collector first"
            )
            raise InputError(msg) from None
        consumers = [
            ConsumerStatus(
                name=consumer.name,
                pending=consumer.num_pending or 0,
                ack_pending=consumer.num_ack_pending or 0,
                redelivered=consumer.num_redelivered or 0,
                waiting_pulls=consumer.num_waiting or 0,
                last_active=_when(consumer.delivered.last_active if consumer.delivered else None),
            )
            for consumer in await js.consumers_info(distributed.STREAM)
        ]
    finally:
        await nc.close()
    state = info.state
    return StreamStatus(
        stream=distributed.STREAM,
        messages=state.messages,
        bytes=state.bytes,
        first_seq=state.first_seq,
        last_seq=state.last_seq,
        consumers=sorted(consumers, key=lambda c: c.name),
    )


def _when(value: object) -> datetime | None:
    """Read nats-py's last_active, an RFC 3339 text or a datetime, as a datetime."""
    if value is None or isinstance(value, datetime):
        return value
    text = str(value)
    if text.startswith("0001-01-01"):
        return None  # never
    head, _, rest = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{rest[:6]}+00:00" if rest else f"{head}+00:00")
