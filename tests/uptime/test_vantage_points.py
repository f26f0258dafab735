"""Agents over a real NATS JetStream: quorum stops a single-agent false alarm, and results
buffered in the stream while the centre is down are all taken in when it returns."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import polars as pl
import pytest
from tests.uptime.servers import Behaviour, http_server

from bastion.audit import Actor
from bastion.core.scope import Scope
from bastion.store import Store
from bastion.uptime import bus, monitor
from bastion.uptime.agent import Agent
from bastion.uptime.centre import Centre
from bastion.uptime.history import History
from bastion.uptime.incidents import list_incidents
from bastion.uptime.service import add_monitor, monitor_state

pytestmark = pytest.mark.nats
EVERYTHING = Scope.everything()


def _broken_network(request: httpx.Request) -> httpx.Response:
    msg = "network unreachable from this vantage point"
    raise httpx.ConnectError(msg, request=request)


async def _agents(nats_url: str, monitors: list, seconds: float, *, one_broken: bool) -> None:  # type: ignore[type-arg]
    nc = await bus.connect(nats_url)
    try:
        js = nc.jetstream()
        await bus.ensure_stream(js)
        runs = []
        for name in ("london", "leeds", "cardiff"):
            broken = one_broken and name == "leeds"
            client = (
                httpx.AsyncClient(transport=httpx.MockTransport(_broken_network))
                if broken
                else None
            )
            agent = Agent(name, monitors, bus.publisher(js, name, name.title()), client=client,
                          flush_s=0.3, spread=False)  # fmt: skip
            runs.append(agent.run(duration_s=seconds))
        await asyncio.gather(*runs)
    finally:
        await nc.close()


def _centre(store: Store, tmp_path: Path) -> Centre:
    return Centre(store, History(tmp_path / "uptime"))


def test_one_agents_bad_network_pages_nobody_but_a_quorum_does(
    uptime_stream: str, nats_url: str, store: Store, tmp_path: Path
) -> None:
    behaviour = Behaviour()
    centre = _centre(store, tmp_path)
    with http_server(behaviour) as url:
        with store.session() as session:
            item = add_monitor(
                session, monitor("portal", "http", url, org="RAL", service="Portal",
                                 interval_s=10, timeout_s=1), actor=Actor.cli("t"), scope=EVERYTHING,
            )  # fmt: skip
        fresh = [item]
        asyncio.run(_agents(nats_url, fresh, 1.5, one_broken=True))
        asyncio.run(bus.consume(nats_url, centre.ingest, idle_exit_s=1))
        report = centre.cycle()
        with store.session() as session:
            assert monitor_state(session, item.id, EVERYTHING)[0] == "up"
            assert list_incidents(session, EVERYTHING) == []
        assert report.changed == {item.id: "up"}
        raw = centre.history.raw(datetime.now(UTC))
        assert set(raw.filter(~pl.col("ok"))["agent"].unique()) == {"leeds"}

        behaviour.status = 503  # now every vantage point sees it down
        asyncio.run(_agents(nats_url, fresh, 1.5, one_broken=True))
        asyncio.run(bus.consume(nats_url, centre.ingest, idle_exit_s=1))
        report = centre.cycle(datetime.now(UTC) + timedelta(seconds=1))
    assert report.changed == {item.id: "down"}
    with store.session() as session:
        [incident] = list_incidents(session, EVERYTHING)
    assert (incident.org, incident.service, incident.automatic) == ("RAL", "Portal", True)


def test_results_buffered_while_the_centre_is_down_are_not_lost(
    uptime_stream: str, nats_url: str, store: Store, tmp_path: Path
) -> None:
    with http_server(Behaviour()) as url:
        monitors = [
            monitor(f"m{i}", "http", url, org="RAL", service="Portal", interval_s=10, timeout_s=1)
            for i in range(20)
        ]
        monitors = [type(m)(**{**m.__dict__, "id": i + 1}) for i, m in enumerate(monitors)]
        # The centre is down: nobody consumes while the agents probe and publish.
        asyncio.run(_agents(nats_url, monitors, 1.0, one_broken=False))
    centre = _centre(store, tmp_path)
    handled = asyncio.run(bus.consume(nats_url, centre.ingest, idle_exit_s=1))
    assert handled >= 3  # at least one batch from each of the three agents
    raw = centre.history.raw(datetime.now(UTC))
    assert raw.height >= 60  # every monitor probed at least once by each agent
    assert set(raw["agent"].unique()) == {"london", "leeds", "cardiff"}
    # Acknowledged: a second centre run finds nothing left to take.
    assert asyncio.run(bus.consume(nats_url, centre.ingest, idle_exit_s=1)) == 0
