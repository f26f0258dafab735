"""Start-up benchmark: how long `bastion --help`, `bastion version` and each group's help take.

Run as ``python -m bench.startup``. Each case runs the ``bastion`` command in a new
process, as a user's shell would, ``--runs`` times, and reports the median wall time
and the median CPU time (user + system) of the process. Byte code is compiled once
first, as an installed package has it; a run then pays for the imports the command
makes, not for compiling them. Wall time on a busy machine includes waiting for a
core; the CPU time does not, and is the steadier figure there. ``--before SRC`` times
another checkout's ``src`` folder too (``git archive <commit> src | tar -x -C DIR``), for a
before-and-after on the same machine at the same time.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._boundary.report import Load, write_document

RESULTS = Path(__file__).parent / "results" / "startup.json"


def _bastion() -> list[str]:
    """Return the command that runs ``bastion``: the installed script beside this Python."""
    script = Path(sys.executable).with_name("bastion")
    if script.is_file():
        return [str(script)]
    found = shutil.which("bastion")
    if found:
        return [found]
    return [sys.executable, "-c", "from bastion.cli.main import main; main()"]


def _groups() -> list[str]:
    """Return the names of the top-level command groups."""
    from typer.main import get_command

    from bastion.cli.main import app

    return [name for name, sub in get_command(app).commands.items() if hasattr(sub, "commands")]


def _time(command: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """Return the median wall and CPU seconds of ``runs`` runs of ``command``."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, check=False)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            msg = f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()[-500:]}"
            raise RuntimeError(msg)
    return statistics.median(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    """Time the cases, print a table and write the results file."""
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=9, help="runs of each case (median taken)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--before", type=Path, help="another checkout's src/ to time as well")
    parser.add_argument("--before-label", default="before", help="what --before is, e.g. a commit")
    args = parser.parse_args(argv)
    bastion = _bastion()
    cases = [("bastion --help", ["--help"]), ("bastion version", ["version"])]
    cases += [(f"bastion {g} --help", [g, "--help"]) for g in _groups()]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for _, extra in cases:  # compile and cache byte code, as installing a package does
        subprocess.run([*bastion, *extra], env=env, capture_output=True, check=False)
    load = Load()
    baseline_wall, baseline_cpu = _time([sys.executable, "-c", "pass"], args.runs, env)
    results: list[dict[str, Any]] = []
    for case, extra in cases:
        wall, cpu = _time([*bastion, *extra], args.runs, env)
        results += [
            {"case": case, "metric": "wall_median", "value": round(wall * 1000), "unit": "ms"},
            {"case": case, "metric": "cpu_median", "value": round(cpu * 1000), "unit": "ms"},
        ]
        print(f"{case:<32} wall {wall * 1000:6.0f} ms   cpu {cpu * 1000:6.0f} ms")
    if args.before is not None:
        before_env = {**env, "PYTHONPATH": str(args.before.resolve())}
        entry = [sys.executable, "-c", "from bastion.cli.main import main; main()"]
        for case, extra in cases[:3]:
            subprocess.run([*entry, *extra], env=before_env, capture_output=True, check=False)
            wall, cpu = _time([*entry, *extra], args.runs, before_env)
            label = f"{case} ({args.before_label})"
            results += [
                {"case": label, "metric": "wall_median", "value": round(wall * 1000), "unit": "ms"},
                {"case": label, "metric": "cpu_median", "value": round(cpu * 1000), "unit": "ms"},
            ]
            print(f"{label:<32} wall {wall * 1000:6.0f} ms   cpu {cpu * 1000:6.0f} ms")
    results.append(
        {"case": "python -c pass", "metric": "wall_median", "value": round(baseline_wall * 1000),
         "unit": "ms", "cpu_ms": round(baseline_cpu * 1000)}
    )  # fmt: skip
    note = "byte code compiled and cached before timing; wall times include waiting for a core"
    write_document(args.results, results, load, note, runs=args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
