"""Fixtures of the chaos tests: their own NATS server, PostgreSQL cluster and `bastion` processes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.chaos.harness import (
    INDICATORS,
    NATS_SERVER,
    PG_BINS,
    Bastion,
    NatsServer,
    PgCluster,
    federation,
)
from tests.conftest import need_service


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL cluster of this session's own (one per xdist worker), removed afterwards."""
    if not PG_BINS or (os.geteuid() == 0 and not shutil.which("runuser")):
        need_service("PostgreSQL's initdb and pg_ctl (/usr/lib/postgresql/*/bin)")
    cluster = PgCluster()
    yield cluster
    cluster.destroy()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A JetStream server of this test's own, file storage in its temporary folder."""
    if not Path(NATS_SERVER).exists():
        need_service("nats-server")
    server = NatsServer(tmp_path / "nats")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def bastion(tmp_path: Path, pg_cluster: PgCluster, nats_server: NatsServer) -> Iterator[Bastion]:
    """`bastion` processes over a fresh database (two trusts), this test's NATS and folders."""
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    (home / "indicators.csv").write_text(INDICATORS)
    url = pg_cluster.database()
    federation(url)
    runner = Bastion(home, url, nats_server.url)
    yield runner
    runner.stop_all()
