"""`bastion boundary listen` stopped by a signal commits every line it received, then reports.

The real CLI runs as a subprocess, as an operator or a service manager runs it:
lines arrive over TCP and UDP, the signal comes while the pipeline is still busy
with them, and the archive is counted afterwards with `bastion hunt`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

Run = Callable[..., Result]

BASTION = Path(sys.executable).with_name("bastion")
TCP_LINES = 50_000
UDP_LINES = 2_000


def _line(i: int) -> bytes:
    # (source.ip, source.port) is unique per line, so the archive can be checked line by line.
    return (
        f'<189>date=2025-06-02 time=10:{i // 60 % 60:02d}:{i % 60:02d} devname="fw-a" '
        f'devid="FGT60F" logid="0000000013" type="traffic" subtype="forward" level="notice" '
        f'vd="root" srcip=11.0.0.{i % 250 + 1} srcport={1024 + i % 60000} '
        f'srcintf="lan" dstip=198.18.0.9 dstport=443 dstintf="wan1" proto=6 service="HTTPS" '
        f'action="accept" policyid=1 sentbyte=100 rcvdbyte=200 tag={i}'
    ).encode()


@pytest.fixture
def env(bastion: Run, tmp_path: Path) -> dict[str, str]:
    """Initialise a data directory (in-process: quicker) and return the listener's environment."""
    assert bastion("init").exit_code == 0
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BASTION_")}
    environ["BASTION_DATA_DIR"] = str(tmp_path / "data")
    return environ


def _start(
    env: dict[str, str], cwd: Path, *, sigint_ignored: bool, as_json: bool = True
) -> subprocess.Popen[bytes]:
    command = [
        str(BASTION), "boundary", "listen", "--format", "fortigate", "--udp", "0", "--tcp", "0",
        "--batch-lines", "5000", "--status-every", "0", *(["--json"] if as_json else []),
    ]  # fmt: skip
    if sigint_ignored:
        # As a shell script's background job starts: SIGINT ignored, inherited through exec.
        command = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *command]
    return subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _ports(listener: subprocess.Popen[bytes]) -> tuple[int, int]:
    assert listener.stderr is not None
    for raw in iter(listener.stderr.readline, b""):
        found = re.search(rb"listening: udp=(\d+) tcp=(\d+)", raw)
        if found:
            return int(found[1]), int(found[2])
    pytest.fail(f"the listener ended before listening: exit {listener.wait()}")


def _send(udp_port: int, tcp_port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for i in range(TCP_LINES, TCP_LINES + UDP_LINES):
            udp.sendto(_line(i), ("127.0.0.1", udp_port))
            if i % 100 == 0:
                time.sleep(0.001)  # well under any buffer: this test is about stopping
    with socket.create_connection(("127.0.0.1", tcp_port)) as tcp:
        tcp.sendall(b"\n".join(_line(i) for i in range(TCP_LINES)) + b"\n")


def _finish(listener: subprocess.Popen[bytes], *, as_json: bool) -> tuple[dict[str, Any], str]:
    stdout, stderr = listener.communicate(timeout=300)
    assert listener.returncode == 0, stderr.decode()
    if as_json:
        return json.loads(stdout), stderr.decode()
    header, values = stdout.decode().splitlines()
    assert header.split()[:6] == ["RECEIVED", "ARCHIVED", "REJECTED", "KERNEL", "UDP", "DROPS"]
    received, archived, rejected, drops = (int(v) for v in values.split()[:4])
    report = {
        "received": received,
        "archived": archived,
        "rejected": rejected,
        "kernel_udp_drops": drops,
    }
    return report, stderr.decode()


def _hunt(bastion: Run, sql: str) -> list[dict[str, Any]]:
    result = bastion("hunt", sql, "--json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


@pytest.fixture
def listeners() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for listener in started:
        if listener.poll() is None:
            listener.kill()
            listener.wait()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "sigint_ignored", "as_json"),
    [(signal.SIGINT, True, True), (signal.SIGTERM, False, False)],
    ids=["sigint-from-a-script-json", "sigterm-table"],
)
def test_a_signal_drains_commits_and_reports_every_line_received(
    bastion: Run,
    env: dict[str, str],
    tmp_path: Path,
    listeners: list[subprocess.Popen[bytes]],
    signum: signal.Signals,
    sigint_ignored: bool,
    as_json: bool,
) -> None:
    listener = _start(env, tmp_path, sigint_ignored=sigint_ignored, as_json=as_json)
    listeners.append(listener)
    udp_port, tcp_port = _ports(listener)

    _send(udp_port, tcp_port)
    time.sleep(0.3)  # the pipeline is still busy with the lines: the signal must not lose them
    listener.send_signal(signum)
    report, stderr = _finish(listener, as_json=as_json)

    sent = TCP_LINES + UDP_LINES
    assert signum.name in stderr
    assert report["kernel_udp_drops"] == 0
    assert (report["received"], report["archived"], report["rejected"]) == (sent, sent, 0)
    [archive] = _hunt(
        bastion,
        'SELECT count(*) AS events, count(DISTINCT ("source.ip", "source.port")) AS lines '
        "FROM events",
    )
    assert archive == {"events": sent, "lines": sent}


@pytest.mark.slow
def test_a_second_signal_exits_at_once_saying_what_was_not_committed(
    env: dict[str, str], tmp_path: Path, listeners: list[subprocess.Popen[bytes]]
) -> None:
    listener = _start(env, tmp_path, sigint_ignored=False)
    listeners.append(listener)
    _, tcp_port = _ports(listener)
    with socket.create_connection(("127.0.0.1", tcp_port)) as tcp:
        tcp.sendall(b"\n".join(_line(i) for i in range(TCP_LINES)) + b"\n")
        listener.send_signal(signal.SIGTERM)
        time.sleep(0.2)  # two signals pending at once would be handled in signal-number order
        listener.send_signal(signal.SIGINT)
        stdout, stderr = listener.communicate(timeout=60)

    assert listener.returncode == 128 + signal.SIGINT
    assert stdout == b""  # no report: it would claim what was never committed
    [last] = stderr.decode().strip().splitlines()[-1:]
    assert re.fullmatch(
        r"bastion boundary listen: SIGINT again: exiting without draining; "
        r"\d+ received lines not committed",
        last,
    )
