"""An agent without NATS posts its results to the centre's API, which stores them for the cycle."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx
import polars as pl

from bastion import auth
from bastion.core.settings import Settings
from bastion.store import Store
from bastion.uptime import bus, config
from bastion.web import create_app


def test_results_posted_over_http_land_in_the_history(store: Store, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    app = create_app(store, settings)
    with store.session() as session:
        token = auth.create_token(
            session, auth.system_principal("test"), "agent", ["uptime:write"]
        ).value
    at = datetime.now(UTC).replace(microsecond=0)
    frame = pl.DataFrame(
        {"monitor": [1, 2], "agent": ["cardiff-1"] * 2, "at": [at, at], "ok": [True, False],
         "latency_ms": [12.5, 5000.0], "status": [200, None], "error": ["", "timed out"]},
        schema_overrides={"at": pl.Datetime("us", "UTC")},
    )  # fmt: skip

    async def post() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            publish = bus.http_publisher(
                client, "/api/v1/uptime/results", token, "cardiff-1", "Cardiff"
            )
            await publish(frame, "cardiff-1-1.5")

    asyncio.run(post())
    raw = config.history(settings).raw(at)
    assert raw.select("monitor", "agent", "ok", "error").rows() == [
        (1, "cardiff-1", True, ""),
        (2, "cardiff-1", False, "timed out"),
    ]
    assert raw["at"].to_list() == [at, at]
