"""The chaos tests' own servers and processes: a NATS JetStream and a PostgreSQL cluster of
their own (killing or restarting them touches nothing else), and `bastion` subprocesses.

- ``NatsServer``: ``nats-server -js`` with file storage in a temporary folder, on a free
  port; ``kill()`` (SIGKILL) and ``start()`` again on the same port and store.
- ``PgCluster``: a cluster made by ``initdb`` in a temporary folder, run by ``pg_ctl`` on
  a free port; ``initdb`` refuses root, so under root (CI) the cluster is made and run by
  the ``postgres`` user (``runuser``), in a folder it owns.
- ``Bastion``: runs ``bastion`` commands as real processes with their own data folder and
  database, so a test can SIGKILL one the way an operator's machine would lose it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import create_engine, text

from bastion.audit import Actor
from bastion.boundary import distributed
from bastion.boundary.archive import visible_files
from bastion.boundary.hunting import hunt
from bastion.boundary.pending import pending_files
from bastion.boundary.workers import list_workers
from bastion.core import bus
from bastion.orgs import Organisation, OrgType, save_organisation
from bastion.store import Store, upgrade

BASTION = Path(sys.executable).with_name("bastion")
NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"
PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
HEADER = (
    "#separator \\x09\n#path\tdns\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype_name\trcode_name\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\tstring\n"
)
INDICATORS = "type,value,source,severity\n" + "".join(
    f"domain,bad{k}.example,chaos-feed,high\n" for k in range(6)
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    check: Callable[[], bool], timeout: float, what: str, *, tell: Callable[[], str] = str
) -> None:
    """Poll ``check`` until true, or fail saying what never happened (and ``tell()``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"after {timeout:.0f}s still waiting for {what}\n{tell()}")


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def frozen(process: subprocess.Popen[bytes]) -> bool:
    """Tell whether ``process`` stopped itself (SIGSTOP at a crash point) and waits for SIGCONT."""
    try:
        stat = Path(f"/proc/{process.pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] == "T"


def worker_row(url: str, worker_id: str) -> dict[str, Any]:
    """A worker's heartbeat row, as ``boundary.workers.list_workers`` reads it."""
    store = Store.from_url(url)
    try:
        with store.session() as session:
            found = [w for w in list_workers(session) if w.worker_id == worker_id]
    finally:
        store.dispose()
    assert found, f"no heartbeat of {worker_id}"
    return vars(found[0])


def committed_batches(url: str) -> int:
    """How many batches the database has committed."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM ingest_batches")).scalar_one())
    finally:
        engine.dispose()


class NatsServer:
    """A JetStream server of the test's own, file storage in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = root / "nats.log"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        argv = [NATS_SERVER, "-js", "-sd", str(self.root / "js"), "-a", "127.0.0.1",
                "-p", str(self.port)]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: _listening(self.port), 20, f"nats-server on port {self.port}")
        wait_for(self._jetstream_ready, 20, "JetStream to answer")

    def _jetstream_ready(self) -> bool:
        async def ask() -> bool:
            nc = await bus.connect(self.url)
            try:
                await nc.jetstream().account_info()
            except Exception:  # not ready yet
                return False
            finally:
                await nc.close()
            return True

        return asyncio.run(ask())

    def kill(self) -> None:
        """Kill the server with SIGKILL (its stream stays on disk)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def stream(self, name: str) -> dict[str, Any]:
        """The state of stream ``name`` (messages) and its consumers (pending, ack pending)."""

        async def ask() -> dict[str, Any]:
            nc = await bus.connect(self.url)
            try:
                js = nc.jetstream()
                info = await js.stream_info(name)
                consumers = await js.consumers_info(name)
                return {
                    "messages": info.state.messages,
                    "consumers": {
                        c.name: {
                            "pending": c.num_pending,
                            "ack_pending": c.num_ack_pending,
                            "ack_floor": c.ack_floor.stream_seq if c.ack_floor else 0,
                        }
                        for c in consumers
                    },
                }
            finally:
                await nc.close()

        return asyncio.run(ask())


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class PgCluster:
    """A PostgreSQL cluster of the test session's own, in a temporary folder."""

    def __init__(self) -> None:
        if not PG_BINS:
            raise FileNotFoundError("no /usr/lib/postgresql/*/bin (initdb, pg_ctl)")
        self.bin = PG_BINS[-1]
        self.root = Path(tempfile.mkdtemp(prefix="bastion-chaos-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self.data = self.root / "data"
        self.port = free_port()
        self.admin_url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")  # fmt: skip
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*_as_postgres(), str(self.bin / tool), *args],
            check=True,
            capture_output=True,
            cwd=self.root,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=60"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.root / "log"), "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        """Stop the cluster; ``immediate`` is a crash: no checkpoint, connections cut."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def database(self) -> str:
        """Create a database at the newest schema; return its URL."""
        name = f"chaos_{uuid.uuid4().hex[:10]}"
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = self.admin_url.rsplit("/", 1)[0] + f"/{name}"
        store = Store.from_url(url)
        upgrade(store.engine)
        store.dispose()
        return url

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Bastion:
    """Run `bastion` as real processes over one data folder, database and NATS server."""

    home: Path
    database_url: str
    nats_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def archive(self) -> Path:
        return Path(self.extra_env.get("BASTION_ARCHIVE_PATH", self.data_dir / "archive"))

    def env(self, **more: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BASTION_")}
        env |= {"BASTION_DATA_DIR": str(self.data_dir), "BASTION_DATABASE_URL": self.database_url}
        return env | self.extra_env | more

    def start(self, *argv: str, log: str, crash_at: str | None = None) -> subprocess.Popen[bytes]:
        """Start ``bastion argv…`` in the background: its stderr to ``<home>/<log>.log``, its
        stdout to ``<log>.out``."""
        more = {"BASTION_TEST_CRASH_AT": crash_at} if crash_at else {}
        with (
            (self.home / f"{log}.log").open("ab") as err,
            (self.home / f"{log}.out").open("ab") as out,
        ):
            process = subprocess.Popen(
                [str(BASTION), "--verbose", *argv], cwd=self.home, env=self.env(**more), stdout=out,
                stderr=err,
            )  # fmt: skip
        self.processes.append(process)
        return process

    def run(self, *argv: str, timeout: float = 120, crash_at: str | None = None) -> Any:
        """Run ``bastion argv… --json`` to its end; return its JSON (fail on a non-zero exit)."""
        more = {"BASTION_TEST_CRASH_AT": crash_at} if crash_at else {}
        done = subprocess.run(
            [str(BASTION), *argv, "--json"], cwd=self.home, env=self.env(**more),
            capture_output=True, timeout=timeout, check=False,
        )  # fmt: skip
        if crash_at:
            return done.returncode
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        return json.loads(done.stdout)

    def worker(self, log: str, *more: str, crash_at: str | None = None) -> subprocess.Popen[bytes]:
        return self.start(
            "boundary", "worker", "--nats", self.nats_url, "--indicators",
            str(self.home / "indicators.csv"), "--ack-wait", "2", "--id", log, *more,
            log=log, crash_at=crash_at,
        )  # fmt: skip

    def drain(self, nats: NatsServer, workers: dict[str, subprocess.Popen[bytes]]) -> None:
        """Wait for the stream to empty (every chunk acknowledged), then stop ``workers`` (by
        name) as systemd does: SIGTERM, the chunk in hand finished, exit 0. Never an
        ``--idle-exit`` waited out."""

        def drained() -> bool:
            # Every chunk acknowledged: the stream empty, or its consumers with none pending
            # nor awaiting an ack (after NATS was SIGKILLed, acknowledged messages were seen
            # to stay in the work queue; the archive's exactly-once check is the proof).
            state = nats.stream(distributed.STREAM)
            consumers = list(state["consumers"].values())
            settled = all(c["pending"] == 0 and c["ack_pending"] == 0 for c in consumers)
            return state["messages"] == 0 or (bool(consumers) and settled)

        wait_for(
            drained, 120, "every chunk acknowledged",
            tell=lambda: f"{nats.stream(distributed.STREAM)}\n" + self.logs(*workers),
        )  # fmt: skip
        for worker in workers.values():
            worker.send_signal(signal.SIGTERM)
        for name, worker in workers.items():
            assert worker.wait(60) == 0, self.logs(name)

    def ready(self, worker_id: str) -> bool:
        """Tell whether worker ``worker_id`` has beaten since it started (it is subscribed)."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                found = conn.execute(
                    text("SELECT pid FROM boundary_workers WHERE worker_id = :w"), {"w": worker_id}
                ).first()
        finally:
            engine.dispose()
        return found is not None

    def publish(self, *paths: Path, chunk_bytes: int = 32 * 1024) -> Any:
        return self.run(
            "boundary", "publish", *map(str, paths), "--nats", self.nats_url,
            "--chunk-bytes", str(chunk_bytes),
        )  # fmt: skip

    def output(self, name: str) -> Any:
        """The JSON a background command printed."""
        return json.loads((self.home / f"{name}.out").read_text())

    def log(self, name: str) -> str:
        return (self.home / f"{name}.log").read_text(errors="replace")

    def logs(self, *names: str) -> str:
        """The last lines each of these processes wrote to stderr (for a failure's message)."""
        return "\n".join(f"== {n}\n{self.log(n)[-2500:]}" for n in names)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)


def federation(url: str) -> None:
    """Two trusts: R0A owns 11.0.0.0/24, R0B 11.0.1.0/24."""
    store = Store.from_url(url)
    with store.session() as session:
        for code, net in (("R0A", "11.0.0.0/24"), ("R0B", "11.0.1.0/24")):
            save_organisation(
                session, Organisation(code, "Trust", OrgType.TRUST, networks=(net,)),
                actor=Actor.cli("chaos"),
            )  # fmt: skip
    store.dispose()


def dns_log(path: Path, lines: int, *, start: float = 1748822400) -> None:
    """A Zeek DNS log of ``lines`` queries by two trusts' hosts, one in 37 to a listed domain."""
    rows = (
        f"{start + i * 0.05:.6f}\tC{i}\t11.0.{i % 2}.{i % 50}\t{5000 + i % 1000}\t198.18.0.53\t53\t"
        f"udp\t{f'bad{i % 6}.example' if i % 37 == 0 else f'host{i}.example.test'}\tA\tNOERROR"
        for i in range(lines)
    )
    path.write_text(HEADER + "\n".join(rows) + "\n")


def exactly_once(archive: Path, lines: int) -> None:
    """Every line of the published log is in the archive once, and nothing is left pending."""
    counts = hunt(
        archive,
        'SELECT count(*), count(DISTINCT ("log.file.path", "log.offset")) FROM events',
        limit=None,
    ).row(0)
    assert counts == (lines, lines), f"archive has {counts[0]} events, {counts[1]} distinct"
    assert pending_files(archive) == [], "committed batches left unpublished"


def alerts_of(url: str) -> list[tuple[Any, ...]]:
    """The alerts of a database, as what must not depend on how many processes raised them."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT org_code, host, key, indicator_value, count, first_seen, last_seen "
                "FROM alerts ORDER BY org_code, host, key, first_seen"
            )
        ).all()
    engine.dispose()
    return [(*r[:5], _utc(r[5]), _utc(r[6])) for r in rows]


def _utc(value: Any) -> str:
    if isinstance(value, str):
        value = value.replace(" ", "T")
        return value[:19]
    return str(value.isoformat())[:19]


def archive_snapshot(archive: Path) -> dict[str, list[tuple[str, ...]]]:
    """Every visible Parquet file (relative path) with its rows, sorted: what a reader sees."""
    return {
        str(f.relative_to(archive)): sorted(
            tuple(repr(v) for v in row.values()) for row in pq.read_table(f).to_pylist()
        )
        for f in visible_files(archive)
    }


def single_process_alerts(pg: PgCluster, home: Path, logs: Path) -> list[tuple[Any, ...]]:
    """Ingest ``logs`` in one process into a database of its own; return its alerts."""
    url = pg.database()
    federation(url)
    reference = Bastion(home, url, "nats://unused")
    reference.data_dir.mkdir(parents=True, exist_ok=True)
    (home / "indicators.csv").write_text(INDICATORS)
    reference.run("boundary", "ingest", str(logs), "--indicators", str(home / "indicators.csv"))
    return alerts_of(url)
