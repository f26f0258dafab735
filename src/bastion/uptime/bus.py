"""Results over NATS JetStream: agents publish batches, the centre pulls them durably.

Each batch is one message on ``bastion.uptime.results.<agent>``: the results as
an Arrow IPC stream (zstd), the agent's name and location in headers, and a
message id JetStream de-duplicates on. The stream keeps messages on disk until
the centre's durable consumer acknowledges them, which it does only once the
batch is stored: a centre that is down loses nothing, it catches up on return.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable

import httpx
import polars as pl
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig

from bastion.core.bus import connect, ensure_work_queue
from bastion.core.errors import InputError

__all__ = ["connect", "consume", "decode", "encode", "ensure_stream", "http_publisher", "publisher"]

STREAM = "BASTION_UPTIME"
SUBJECT_PREFIX = "bastion.uptime.results"
CONSUMER = "bastion-uptime-centre"
MAX_AGE_S = 7 * 86_400.0  # results wait a week for a centre that is down


def encode(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="zstd")
    return buffer.getvalue()


def decode(payload: bytes) -> pl.DataFrame:
    try:
        return pl.read_ipc(io.BytesIO(payload))
    except Exception as exc:  # polars raises its own ComputeError family on bad bytes
        msg = f"an uptime results message is not an Arrow IPC batch: {exc}"
        raise InputError(msg) from None


async def ensure_stream(js: JetStreamContext) -> None:
    """Create the results stream (work queue, on disk, a week at most) if it does not exist yet."""
    await ensure_work_queue(
        js, STREAM, [f"{SUBJECT_PREFIX}.>"], duplicate_window=600.0, max_age=MAX_AGE_S
    )


def publisher(
    js: JetStreamContext, agent: str, location: str
) -> Callable[[pl.DataFrame, str], Awaitable[None]]:
    """Return a function that publishes one batch of ``agent``'s results under its id."""

    async def publish(frame: pl.DataFrame, batch: str) -> None:
        headers = {"Nats-Msg-Id": batch, "Bastion-Agent": agent, "Bastion-Location": location}
        await js.publish(f"{SUBJECT_PREFIX}.{agent}", encode(frame), headers=headers)

    return publish


def http_publisher(
    client: httpx.AsyncClient, url: str, token: str, agent: str, location: str
) -> Callable[[pl.DataFrame, str], Awaitable[None]]:
    """Return a function that posts one batch to the centre's ``/api/v1/uptime/results``.

    For agents that cannot reach NATS; a failed post raises, so the agent's run stops
    rather than dropping results silently.
    """

    async def publish(frame: pl.DataFrame, batch: str) -> None:
        rows = frame.select(
            "monitor", pl.col("at").dt.to_string("%Y-%m-%dT%H:%M:%S%.f+00:00"), "ok",
            "latency_ms", "status", pl.col("error").fill_null(""),
        ).to_dicts() if frame.height else []  # fmt: skip
        body = {
            "agent": agent,
            "location": location,
            "batch": batch.replace(".", "-"),
            "results": rows,
        }
        answer = await client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
        answer.raise_for_status()

    return publish


Handler = Callable[[pl.DataFrame, str, str, str], object]
"""What the centre does with a batch: (results, batch id, agent, location)."""


async def consume(
    url: str,
    handle: Handler,
    *,
    idle_exit_s: float | None = None,
    batch: int = 64,
    on_idle: Callable[[], object] | None = None,
) -> int:
    """Pull batches until stopped (or idle for ``idle_exit_s``); acknowledge each once handled.

    Return how many batches were handled. ``on_idle`` runs after each pull (the cycle).
    """
    nc = await connect(url)
    handled = 0
    try:
        js = nc.jetstream()
        await ensure_stream(js)
        subscription = await js.pull_subscribe(
            f"{SUBJECT_PREFIX}.>",
            durable=CONSUMER,
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=60.0),
        )
        idle = 0.0
        while idle_exit_s is None or idle < idle_exit_s:
            try:
                messages = await subscription.fetch(batch, timeout=1.0)
            except TimeoutError:
                idle += 1.0
                messages = []
            for message in messages:
                headers = message.headers or {}
                try:
                    frame = decode(message.data)
                except InputError:
                    await message.term()  # bad bytes stay bad: do not let them come back
                    continue
                handle(frame, headers.get("Nats-Msg-Id", ""), headers.get("Bastion-Agent", "?"),
                       headers.get("Bastion-Location", ""))  # fmt: skip
                await message.ack()
                handled += 1
            if messages:
                idle = 0.0
            if on_idle is not None:
                on_idle()
    finally:
        await nc.close()
    return handled
