"""The password service through the real server: uvicorn with worker processes, a client beside.

``prepare`` lays out a data folder (a SQLite or PostgreSQL store with one
organisation, its Entra-style policy and a directory agent's token, and a
breached-password store of generated hashes); ``serving`` runs uvicorn on it with
``workers`` processes (``app`` is the factory each worker calls); ``load`` runs
``bench._web.load`` in a process of its own against it.
"""

from __future__ import annotations

import inspect
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[2]
ORG = "B00000"
# Limits far above the load, so every request is counted and none refused: the cost
# of the per-client limit is in the figures, a 429 is not.
BENCH_LIMIT = (10**9, 60.0)


def _breach_file(folder: Path, hashes: int) -> Path:
    """Write ``hashes`` random SHA-1 hashes with counts as HIBP downloader output."""
    rng = np.random.default_rng(25)
    digests = rng.integers(0, 256, size=(hashes, 20), dtype=np.uint8).tobytes().hex().upper()
    counts = rng.zipf(1.5, size=hashes).clip(1, 10**7).tolist()
    path = folder / "pwned-sha1.txt"
    lines = (f"{digests[i * 40 : (i + 1) * 40]}:{c}" for i, c in enumerate(counts))
    path.write_text("\r\n".join(lines) + "\r\n", encoding="ascii")
    return path


def prepare(folder: Path, database_url: str, hashes: int) -> str:
    """Lay out the server's data under ``folder``; return the agent's API token."""
    from bastion import auth, orgs, passwords
    from bastion.audit import Actor
    from bastion.store import Store, upgrade

    Path(folder).mkdir(parents=True, exist_ok=True)
    passwords.Builder(folder / "passwords", [passwords.source(_breach_file(folder, hashes))]).run()
    store = Store.from_url(database_url)
    upgrade(store.engine)
    cli = Actor.cli("bench")
    with store.session() as session:
        orgs.save_organisation(
            session, orgs.Organisation(ORG, "Bench Trust", orgs.OrgType.TRUST), actor=cli
        )
        passwords.set_policy(session, cli, ORG, passwords.Policy(scoring=True))
        token = auth.create_token(
            session, auth.system_principal("bench"), "directory agent", ["passwords:read"], org=ORG
        )
    store.dispose()
    return token.value


def app() -> Any:
    """Build the app each uvicorn worker serves (from ``BASTION_BENCH_*`` in the environment)."""
    from bastion.core.settings import Settings
    from bastion.store import Store
    from bastion.web import create_app

    folder = Path(os.environ["BASTION_BENCH_DIR"])
    store = Store.from_url(os.environ["BASTION_BENCH_DATABASE"])
    limits = {"api_limit": BENCH_LIMIT}
    if "range_limit" in inspect.signature(create_app).parameters:
        limits["range_limit"] = BENCH_LIMIT
    else:  # the code before issue 25 made its range limiter from a module constant
        import bastion.web.passwords as range_api

        range_api.RANGE_LIMIT = BENCH_LIMIT  # type: ignore[attr-defined]
    return create_app(store, Settings(data_dir=folder), **limits)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_cpu_seconds(pid: int) -> float:
    """Return the CPU seconds the server (its process and its workers) has used so far."""
    parent = psutil.Process(pid)
    total = 0.0
    for process in [parent, *parent.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


@contextmanager
def serving(folder: Path, database_url: str, workers: int) -> Iterator[tuple[int, int]]:
    """Run uvicorn with ``workers`` processes on a free local port; yield the port and its pid."""
    port = _free_port()
    env = {
        **os.environ,
        "BASTION_BENCH_DIR": str(folder),
        "BASTION_BENCH_DATABASE": database_url,
    }
    command = [sys.executable, "-m", "bench._web.server", str(port), str(workers)]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(1.0 * workers)  # every worker up, not only the first
        yield port, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def load(folder: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """Run ``bench._web.load`` with ``spec`` in another process; return its figures."""
    path = folder / "load.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bench._web.load", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:  # say why: the load generator's own last words
        msg = f"the load generator failed ({done.returncode}): {done.stderr.strip()[-2000:]}"
        raise RuntimeError(msg)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(port: int, workers: int) -> None:
    """Run uvicorn on ``port`` with ``workers`` processes as ``bastion serve`` runs it."""
    import uvicorn

    options: dict[str, Any] = {}
    try:  # the HTTP protocol ``bastion serve`` uses (trees before it had none: uvicorn's)
        from bastion.cli.web import uvicorn_options

        options = {k: v for k, v in uvicorn_options("127.0.0.1", port).items() if k == "http"}
    except ImportError:
        pass
    uvicorn.run(
        "bench._web.server:app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
        server_header=False,
        **options,
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
