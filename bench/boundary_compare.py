"""Compare two trees' parsers over the same files: ``python -m bench.boundary_compare``.

For a before/after figure on a machine others share: each format's file (written by
``bench.boundary``, cached under its work directory) is parsed by the ``before``
tree's code and by the ``after`` tree's code in turn, round after round (the order
alternating each round), each run a fresh single-threaded process pinned to one core
(``_boundary.parse_timer``). Each run records wall-clock and CPU seconds and the load
average before it; the summary takes the best of each tree's runs, by CPU time (what
the parser cost, whatever else ran) and by wall-clock time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._boundary import generate, report, runner

REPO = Path(__file__).resolve().parents[1]
TIMER = REPO / "bench" / "_boundary" / "parse_timer.py"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.boundary_compare", description=__doc__)
    parser.add_argument("--before", type=Path, required=True, help="the older tree (its .venv)")
    parser.add_argument("--after", type=Path, default=REPO, help="the newer tree (its .venv)")
    parser.add_argument("--events-dir", type=Path, required=True, help="bench.boundary's events")
    parser.add_argument("--events", type=int, default=1_000_000, help="events per format file")
    parser.add_argument("--formats", default=",".join(generate.DEFAULT_CASES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--results", type=Path, required=True)
    return parser.parse_args(argv)


def _run(tree: Path, case: generate.Case, path: Path, scratch: Path) -> dict[str, Any]:
    """Parse ``path`` with ``tree``'s code in a fresh process; return what it measured."""
    spec_path = scratch / "spec.json"
    result_path = scratch / "result.json"
    result_path.unlink(missing_ok=True)
    cpu = sorted(os.sched_getaffinity(0))[0]
    spec = {"input": str(path), "parser": case.parser, "result": str(result_path), "cpus": [cpu]}
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    load = os.getloadavg()
    env = {**os.environ, **runner.ONE_THREAD, "PYTHONPATH": str(tree)}
    subprocess.run(
        [str(tree / ".venv" / "bin" / "python"), str(TIMER), str(spec_path)],
        env=env,
        cwd=tree,
        check=True,
    )
    measured: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    return measured | {"load_before": list(load), "load_after": list(os.getloadavg())}


def _best(runs: list[dict[str, Any]], key: str) -> float:
    return min(r[key] for r in runs)


def _summary(name: str, runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    events = runs["after"][0]["events"]
    row: dict[str, Any] = {"case": name, "events": events}
    for key, label in (("cpu_seconds", "cpu"), ("seconds", "wall")):
        before, after = _best(runs["before"], key), _best(runs["after"], key)
        row[f"before_{label}_events_per_s"] = round(runs["before"][0]["events"] / before)
        row[f"after_{label}_events_per_s"] = round(events / after)
        row[f"{label}_change_pct"] = round((before / after - 1) * 100, 1)
    return row


def main(argv: list[str] | None = None) -> int:
    """Run the interleaved comparison; write every run and the summary as JSON."""
    args = _arguments(argv)
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    names = [n.strip() for n in args.formats.split(",") if n.strip()]
    document: dict[str, Any] = {
        "machine": report.machine(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "trees": {k: str(v) for k, v in trees.items()},
        "method": __doc__,
        "runs": {},
        "results": [],
    }
    with tempfile.TemporaryDirectory() as scratch:
        for name in names:
            case = generate.CASES[name]
            data = generate.cached(case, args.events_dir, args.events)
            if data is None:
                print(f"{name}: no file of {args.events:,} events; run bench.boundary first")
                continue
            runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
            for round_ in range(args.rounds):
                order = ("before", "after") if round_ % 2 == 0 else ("after", "before")
                for which in order:
                    run = _run(trees[which], case, data.path, Path(scratch))
                    runs[which].append(run)
                    print(
                        f"{name} {which}: {run['events'] / run['cpu_seconds']:,.0f} events/CPU-s, "
                        f"{run['events'] / run['seconds']:,.0f} events/s wall, "
                        f"load {run['load_before'][0]:.1f}",
                        flush=True,
                    )
            document["runs"][name] = runs
            document["results"].append(_summary(name, runs))
            args.results.parent.mkdir(parents=True, exist_ok=True)
            args.results.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    for row in document["results"]:
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
