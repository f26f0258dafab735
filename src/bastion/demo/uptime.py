"""The uptime demo: national services on local stand-ins, one degrading on a schedule.

Each demo service is a small HTTP stand-in on 127.0.0.1 (``BASE_PORT`` upwards). The
e-Referral service degrades on a schedule: in the last ``DEGRADED_MINUTES`` of every
``CYCLE_MINUTES`` it answers 503. Three members monitor the national login (tagged
``dep:nhs-login``), so its outage is one national incident.

``load_demo_uptime`` (what `bastion init --demo` runs, in seconds) registers the
monitors, SLOs and a status page, then replays the last two hours as three vantage
points would have seen the schedule, through the centre's own cycle: the console
then shows a burn-rate page, an incident and the status page. ``run_demo_uptime``
(`bastion demo uptime`) serves the stand-ins and probes them for real from three
in-process agents, the centre cycling every ``cycle_s`` seconds.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import polars as pl
from sqlalchemy import select

from bastion import uptime
from bastion.audit import Actor
from bastion.core.scope import Scope
from bastion.store import Store
from bastion.uptime import Centre
from bastion.uptime.models import MonitorRow

BASE_PORT = 18_400
CYCLE_MINUTES = 30
DEGRADED_MINUTES = 4
AGENTS = (("london-1", "London"), ("leeds-1", "Leeds"), ("cardiff-1", "Cardiff"))
EVERYTHING = Scope.everything()


@dataclass(frozen=True)
class DemoService:
    name: str
    path: str
    target: float
    degrades: bool = False


SERVICES = (
    DemoService("NHS login", "/login/health", 0.9999),
    DemoService("e-Referral Service", "/ers/health", 0.999, degrades=True),
    DemoService("Summary Care Record", "/scr/health", 0.9999),
    DemoService("Electronic Prescription Service", "/eps/health", 0.9999),
)


def degraded(moment: datetime) -> bool:
    """Whether the degrading stand-in fails at ``moment`` (its schedule)."""
    return moment.minute % CYCLE_MINUTES >= CYCLE_MINUTES - DEGRADED_MINUTES


def _port(index: int) -> int:
    return BASE_PORT + index


@contextmanager
def stand_ins(clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Iterator[list[int]]:
    """Serve every demo service on 127.0.0.1; yield their ports."""
    servers = []
    for index, service in enumerate(SERVICES):

        class Handler(BaseHTTPRequestHandler):
            degrades = service.degrades

            def do_GET(self) -> None:
                failing = self.degrades and degraded(clock())
                body = b'{"status": "degraded"}' if failing else b'{"status": "ok"}'
                self.send_response(503 if failing else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", _port(index)), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    try:
        yield [_port(i) for i in range(len(SERVICES))]
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def register(store: Store, members: Sequence[str], actor: Actor) -> list[uptime.Monitor]:
    """Add the demo monitors (once), SLOs and status page; return the monitors."""
    lead = members[0]
    with store.session() as session:
        if session.scalar(select(MonitorRow.id).limit(1)) is not None:
            return []
        made = []
        for index, service in enumerate(SERVICES):
            url = f"http://127.0.0.1:{_port(index)}{service.path}"
            owners = members[:3] if service.name == "NHS login" else [lead]
            for org in owners:
                item = uptime.monitor(
                    f"{service.name} health", "http", url, org=org, service=service.name,
                    interval_s=30, timeout_s=5, tags=("dep:nhs-login",) if org != lead else (),
                    options={"json_path": "$.status", "json_value": "ok"}, public=True,
                )  # fmt: skip
                made.append(uptime.add_monitor(session, item, actor=actor, scope=EVERYTHING))
            slo = uptime.Slo(lead, service.name, service.target)
            uptime.add_slo(session, slo, actor=actor, scope=EVERYTHING)
        uptime.add_status_page(session, "national-services", "National digital services", lead,
                               [s.name for s in SERVICES], actor=actor, scope=EVERYTHING)  # fmt: skip
    return made


def replay(
    centre: Centre, monitors: Sequence[uptime.Monitor], start: datetime, end: datetime
) -> int:
    """Feed the centre what three agents would have seen from ``start`` to ``end``, and run its
    cycle as of the end of each degraded spell and of each recovery; return the results fed."""
    failing = [m.id for m in monitors if any(s.degrades and s.name == m.service for s in SERVICES)]
    steps = int((end - start).total_seconds() // 30)
    moments = pl.datetime_range(start, start + timedelta(seconds=30 * (steps - 1)), "30s",
                                time_zone="UTC", eager=True)  # fmt: skip
    grid = pl.DataFrame({"monitor": [m.id for m in monitors]}).join(
        pl.DataFrame({"at": moments}), how="cross"
    )
    down = pl.col("monitor").is_in(failing) & (
        pl.col("at").dt.minute() % CYCLE_MINUTES >= CYCLE_MINUTES - DEGRADED_MINUTES
    )
    total = 0
    for number, (agent, location) in enumerate(AGENTS):
        frame = grid.with_columns(
            pl.col("at") + timedelta(seconds=2 + number),
            agent=pl.lit(agent),
            ok=~down,
            latency_ms=18.0 + (pl.col("monitor") * 7 + number) % 11,
        )
        centre.ingest(frame, f"demo-{agent}-{start:%Y%m%d%H%M}", agent, location)
        total += frame.height
    moment = start + timedelta(minutes=1)
    while moment <= end:
        if moment.minute % CYCLE_MINUTES in {0, CYCLE_MINUTES - 1} or moment == end:
            centre.cycle(moment)
        moment += timedelta(minutes=1)
    return total


def load_demo_uptime(
    store: Store, centre: Centre, members: Sequence[str], actor: Actor
) -> list[str]:
    """Register the demo (once) and replay its last two hours through the centre."""
    monitors = register(store, members, actor)
    if not monitors:
        return ["uptime demo not loaded: monitors exist already"]
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    # End inside a degraded spell, so the page is firing when the console opens.
    while not degraded(end - timedelta(minutes=1)):
        end -= timedelta(minutes=1)
    results = replay(centre, monitors, end - timedelta(hours=2), end)
    return [f"uptime demo: {len(monitors)} monitors of {len(SERVICES)} national services, "
            f"{results:,} results replayed; status page /status/national-services"]  # fmt: skip


async def _probe_for(centre: Centre, monitors: Sequence[uptime.Monitor], seconds: float,
                     cycle_s: float) -> int:  # fmt: skip
    async def publish_to(agent: str, location: str) -> Callable[[pl.DataFrame, str], object]:
        async def publish(frame: pl.DataFrame, batch: str) -> None:
            await asyncio.to_thread(centre.ingest, frame, batch, agent, location)

        return publish

    agents = [uptime.Agent(name, monitors, await publish_to(name, where), flush_s=2.0, spread=False)  # type: ignore[arg-type]
              for name, where in AGENTS]  # fmt: skip

    async def cycles() -> None:
        while True:
            await asyncio.sleep(cycle_s)
            await asyncio.to_thread(centre.cycle)

    cycling = asyncio.create_task(cycles())
    stats = await asyncio.gather(*(a.run(duration_s=seconds) for a in agents))
    cycling.cancel()
    await asyncio.to_thread(centre.cycle)
    return sum(s.probes for s in stats)


def run_demo_uptime(store: Store, centre: Centre, seconds: float, cycle_s: float = 10.0) -> int:
    """Serve the stand-ins and probe them for real from three agents; return the probes made."""
    with store.session() as session:
        monitors = uptime.list_monitors(session, EVERYTHING)
    with stand_ins():
        return asyncio.run(_probe_for(centre, monitors, seconds, cycle_s))
