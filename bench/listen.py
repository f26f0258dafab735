"""Benchmark the syslog listener over UDP: ``python -m bench.listen``.

It starts the real ``bastion boundary listen --udp`` as a subprocess on a fresh data
directory, sends PAN-OS lines (the demo's generator) to it over 127.0.0.1, paced
at each rate asked for a bounded time, stops it with SIGTERM and reads its report:
lines received and archived, and the kernel's drops on the listener's socket. The
sender is this process, on the same machine: it competes with the listener for the
cores, as a busy sender would not. Results go to ``bench/results/listen.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bastion.demo.federation import generate_federation
from bastion.demo.formats import panos
from bastion.demo.rand import Draw
from bastion.demo.world import World
from bench._boundary.report import code_measured, machine

REPO = Path(__file__).resolve().parents[1]
DEFAULT_RESULTS = REPO / "bench" / "results" / "listen.json"
BASTION = Path(sys.executable).with_name("bastion")
TARGET_DROPS = 0
TARGET_RATE = 150_000
# Lines sent per pacing step: the sender sleeps between steps to hold the rate.
STEP_LINES = 500


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.listen", description=__doc__)
    parser.add_argument(
        "--rates", default=str(TARGET_RATE), help="comma-separated lines/s to send at, one run each"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to send each run")
    parser.add_argument(
        "--distinct", type=int, default=200_000, help="distinct PAN-OS lines, sent in a cycle"
    )
    parser.add_argument(
        "--udp-buffer", type=int, default=None, help="the listener's --udp-buffer (bytes)"
    )
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    return parser.parse_args(argv)


def say(text: str = "") -> None:
    """Print progress at once."""
    print(text, flush=True)


def panos_lines(count: int) -> list[bytes]:
    """Return ``count`` PAN-OS syslog lines from the demo's generator (same seed, same lines)."""
    world = World(generate_federation(seed=7, size="small"))
    draw = Draw(7, "bench-listen")
    start = int(datetime(2026, 6, 2, tzinfo=UTC).timestamp()) * 1_000_000
    frame = panos.benign(world, draw, draw.ints(count, start, start + 86_400_000_000).sort())
    return [line.encode() for line in panos.render(frame).to_list()]


def _start_listener(env: dict[str, str], cwd: Path, udp_buffer: int | None) -> tuple[Any, int]:
    command = [
        str(BASTION), "boundary", "listen", "--format", "panos", "--udp", "0",
        "--status-every", "0", "--json",
    ]  # fmt: skip
    if udp_buffer is not None:
        command += ["--udp-buffer", str(udp_buffer)]
    listener = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert listener.stderr is not None
    for raw in iter(listener.stderr.readline, b""):
        found = re.search(rb"listening: udp=(\d+)", raw)
        if found:
            return listener, int(found[1])
    msg = f"the listener ended before listening (exit {listener.wait()})"
    raise RuntimeError(msg)


def send_paced(port: int, lines: list[bytes], rate: int, seconds: float) -> tuple[int, float]:
    """Send ``rate * seconds`` datagrams, one line each, paced at ``rate``; return count and time."""
    total = int(rate * seconds)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(("127.0.0.1", port))
        send = sock.send
        cycle = len(lines)
        started = time.perf_counter()
        sent = 0
        while sent < total:
            due = started + sent / rate
            lag = due - time.perf_counter()
            if lag > 0:
                time.sleep(lag)
            for i in range(sent, min(sent + STEP_LINES, total)):
                send(lines[i % cycle])
            sent = min(sent + STEP_LINES, total)
        return sent, time.perf_counter() - started


def _busy_others(exclude: set[int]) -> list[dict[str, Any]]:
    """Return the other processes using a tenth of a core or more (sampled over one second)."""
    procs = [p for p in psutil.process_iter(["pid", "name"]) if p.pid not in exclude]
    for proc in procs:
        try:
            proc.cpu_percent(None)
        except psutil.Error:
            continue
    time.sleep(1.0)
    busy = []
    for proc in procs:
        try:
            share = proc.cpu_percent(None)
        except psutil.Error:
            continue
        if share >= 10:
            busy.append({"name": proc.info["name"], "cpu_percent": round(share)})
    return sorted(busy, key=lambda p: -p["cpu_percent"])


def _stop_and_reap(listener: subprocess.Popen[bytes]) -> tuple[bytes, bytes, float]:
    """SIGTERM the listener, read its output, reap it; return stdout, stderr and its CPU seconds."""
    assert listener.stdout is not None
    assert listener.stderr is not None
    listener.send_signal(signal.SIGTERM)
    with listener.stdout, listener.stderr:
        stdout = listener.stdout.read()
        stderr = listener.stderr.read()
    # wait4 rather than wait: it also says how much CPU the listener used in all.
    _, status, usage = os.wait4(listener.pid, 0)
    listener.returncode = os.waitstatus_to_exitcode(status)
    return stdout, stderr, usage.ru_utime + usage.ru_stime


def run_once(rate: int, args: argparse.Namespace, lines: list[bytes]) -> dict[str, Any]:
    """Start a listener, send at ``rate`` for ``args.seconds``, stop it; return what it reported."""
    with tempfile.TemporaryDirectory(prefix="bench-listen-") as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BASTION_")}
        env["BASTION_DATA_DIR"] = str(Path(scratch) / "data")
        subprocess.run([BASTION, "init"], env=env, cwd=scratch, check=True, capture_output=True)
        listener, port = _start_listener(env, Path(scratch), args.udp_buffer)
        try:
            load_before = os.getloadavg()[0]
            others = _busy_others({os.getpid(), listener.pid})
            idle = psutil.Process(listener.pid).cpu_times()  # started, listening, idle
            sender_cpu = time.thread_time()
            sent, seconds = send_paced(port, lines, rate, args.seconds)
            sender_cpu = time.thread_time() - sender_cpu
            stopped = time.perf_counter()
            stdout, stderr, cpu = _stop_and_reap(listener)
            drained = time.perf_counter() - stopped
        finally:
            if listener.returncode is None:
                listener.kill()
                listener.wait()
        if listener.returncode != 0:
            msg = f"the listener exited {listener.returncode}: {stderr.decode()[-2000:]}"
            raise RuntimeError(msg)
        report = json.loads(stdout)
        return {
            "rate_asked": rate,
            "sent": sent,
            "send_seconds": seconds,
            "received": report["received"],
            "archived": report["archived"],
            "rejected": report["rejected"],
            "kernel_udp_drops": report["kernel_udp_drops"],
            "udp_buffer_bytes": report["udp_buffer_bytes"],
            "drain_seconds": drained,
            "listener_cpu_seconds": cpu - idle.user - idle.system,
            "udp_receive_cpu_seconds": report["udp_receive_cpu_seconds"],
            "sender_cpu_seconds": sender_cpu,
            "load_average_1m_before": load_before,
            "other_busy_processes": others,
        }


def results(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the result rows of one run."""
    case = f"panos_udp_{run['rate_asked']}"
    drops = run["kernel_udp_drops"]
    return [
        {"case": case, "metric": "lines_sent", "value": run["sent"], "unit": "lines"},
        {
            "case": case,
            "metric": "send_rate",
            "value": round(run["sent"] / run["send_seconds"]),
            "unit": "lines/s",
        },
        {
            "case": case,
            "metric": "kernel_udp_drops",
            "value": drops,
            "unit": "lines",
            "target": TARGET_DROPS,
            "meets_target": drops == TARGET_DROPS,
        },
        {
            "case": case,
            "metric": "lines_lost",
            "value": run["sent"] - run["received"],
            "unit": "lines",
            "note": "sent but never received: equals kernel_udp_drops when the kernel counted every loss",
        },
        {"case": case, "metric": "lines_received", "value": run["received"], "unit": "lines"},
        {"case": case, "metric": "lines_archived", "value": run["archived"], "unit": "lines"},
        {"case": case, "metric": "lines_rejected", "value": run["rejected"], "unit": "lines"},
        {
            "case": case,
            "metric": "listener_cpu_us_per_line",
            "value": round(run["listener_cpu_seconds"] / max(run["received"], 1) * 1e6, 2),
            "unit": "us",
            "note": "the listener's CPU from the first line to its exit (receiving, the pipeline, "
            "the commits) over the lines it received: one core sustains a million over this "
            "many lines a second, whatever else the machine runs",
        },
        {
            "case": case,
            "metric": "udp_receive_cpu_us_per_line",
            "value": round(run["udp_receive_cpu_seconds"] / max(run["received"], 1) * 1e6, 2),
            "unit": "us",
            "note": "the part of listener_cpu_us_per_line spent in the UDP receiving thread",
        },
        {
            "case": case,
            "metric": "sender_cpu_us_per_line",
            "value": round(run["sender_cpu_seconds"] / max(run["sent"], 1) * 1e6, 2),
            "unit": "us",
        },
        {
            "case": case,
            "metric": "drain_seconds",
            "value": round(run["drain_seconds"], 2),
            "unit": "s",
            "note": "from the last line sent to the report: the pipeline's backlog",
        },
    ]


def conditions(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Describe how busy the machine was with other work when each run started."""
    shared = any(run["other_busy_processes"] for run in runs)
    return {
        "load_average_1m": [round(run["load_average_1m_before"], 2) for run in runs],
        "other_busy_processes": [run["other_busy_processes"] for run in runs],
        "note": "other processes were using the cores during the runs (a shared machine): "
        "the figures are lower than an idle machine would give"
        if shared
        else "no other process used a tenth of a core or more as the runs started",
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit code."""
    args = _arguments(argv)
    rates = [int(r) for r in args.rates.split(",") if r.strip()]
    say(f"generating {args.distinct:,} PAN-OS lines …")
    lines = panos_lines(args.distinct)
    runs = []
    for rate in rates:
        say(f"UDP at {rate:,} lines/s for {args.seconds:g} s …")
        run = run_once(rate, args, lines)
        runs.append(run)
        say(
            f"  sent {run['sent']:,} at {run['sent'] / run['send_seconds']:,.0f}/s; "
            f"received {run['received']:,}, archived {run['archived']:,}, "
            f"kernel drops {run['kernel_udp_drops']}, drained in {run['drain_seconds']:.1f} s"
        )
    document = {
        "machine": {**machine(), "conditions": conditions(runs)},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "results": [row for run in runs for row in results(run)],
        "runs": runs,
        "config": {
            "seconds": args.seconds,
            "distinct_lines": args.distinct,
            "udp_buffer": args.udp_buffer,
            "sender": "this process, one datagram per line, on the same machine over 127.0.0.1",
            "federation": "none loaded: no attribution or indicator matching cost",
        },
        "code": code_measured(REPO),
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    say(f"results: {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
