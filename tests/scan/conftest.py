"""Fixtures of the scan tests: the scan lab on loopback, registered as two GP practices.

The lab and one scan of it are module-scoped: every planted weakness is scanned
once, and the tests assert on what that scan found.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bastion import scan
from bastion.audit import Actor
from bastion.core.settings import Settings
from bastion.demo.scanlab import Lab, LabProcess
from bastion.demo.scanning import register_lab
from bastion.store import Store, upgrade

ACTOR = Actor.cli("scanner")
NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


class Canary:
    """The canary DNS listener in a thread, writing hits to the store."""

    def __init__(self, store: Store, domain: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.store = store
        started = threading.Event()
        self.address = ""

        def on_hit(hit: scan.Hit) -> None:
            with store.session() as session:
                scan.record_hit(session, hit)

        async def main() -> None:
            self.transport = await scan.listen("127.0.0.1:0", domain, on_hit)
            self.address = f"127.0.0.1:{self.transport.get_extra_info('sockname')[1]}"
            started.set()

        self.thread = threading.Thread(
            target=lambda: (self.loop.run_until_complete(main()), self.loop.run_forever()),
            daemon=True,
        )
        self.thread.start()
        started.wait(5)

    def close(self) -> None:
        async def stop() -> None:
            self.transport.close()
            await asyncio.sleep(0.05)  # let the transport finish closing

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def lab_settings(tmp: Path, lab: Lab, canary: str | None) -> Settings:
    return Settings(
        data_dir=tmp,
        scan_allow_private=True,
        scan_ports=lab.ports,
        scan_packet_rate=10_000,
        scan_request_rate=10_000,
        scan_connect_timeout=4,
        scan_read_timeout=4,
        scan_banner_wait_seconds=0.2,
        scan_backoff_seconds=0.05,
        scan_trust_ca_file=lab.ca_file,
        scan_canary_dns=canary,
        scan_canary_wait_seconds=0.5,
        scan_dns_server=lab.dns_address,
    )


@pytest.fixture(scope="module")
def lab_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    tmp = tmp_path_factory.mktemp("scan-store")
    store = Store.from_url(f"sqlite:///{tmp / 'bastion.db'}")
    upgrade(store.engine)
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def canary(lab_store: Store) -> Iterator[Canary]:
    listener = Canary(lab_store, "canary.bastion.test")
    yield listener
    listener.close()


@pytest.fixture(scope="module")
def lab(
    tmp_path_factory: pytest.TempPathFactory, canary: Canary, lab_store: Store
) -> Iterator[Lab]:
    host, port = canary.address.split(":")
    running = LabProcess(tmp_path_factory.mktemp("scan-lab"), (host, int(port)))
    try:
        register_lab(lab_store, running.lab, ACTOR)
        yield running.lab
    finally:
        running.close()


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, lab: Lab, canary: Canary) -> Settings:
    return lab_settings(tmp_path_factory.mktemp("scan-data"), lab, canary.address)


@pytest.fixture(scope="module")
def first_scan(lab_store: Store, lab: Lab, settings: Settings) -> scan.ScanReport:
    """Scan every lab host once, as the scheduler would."""
    with lab_store.session() as session:
        targets, refused = scan.organisation_targets(session, allow_private=True)
        assert refused == []
        return scan.scan(session, targets, settings, actor=ACTOR, now=NOW)
