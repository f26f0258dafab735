"""Benchmark the boundary pipeline per log format: ``python -m bench.boundary`` (or ``make bench``).

For each format it writes N events with the demo's generators (cached between runs),
then runs Bastion's real ``Pipeline`` over the file in a fresh process: parse,
attribute against the federation's networks, match against millions of indicators,
the Parquet archive, alerts and checkpoints in SQLite. It measures the parser alone
and the whole pipeline on one core, and the whole pipeline on every core (one
process per core over its own part of the file), with the indexes built before the
clock starts. Results go to ``bench/results/boundary.json``; see ``--help``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bastion.boundary.parsers import PARSERS
from bastion.demo.world import World
from bench._boundary import generate, report, runner, state

REPO = Path(__file__).resolve().parents[1]
DEFAULT_WORKDIR = REPO / "bench" / "data"
DEFAULT_RESULTS = REPO / "bench" / "results" / "boundary.json"
RUNS = ("index", "parse", "e2e", "all")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.boundary", description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000, help="events per format")
    parser.add_argument(
        "--formats",
        default=",".join(generate.DEFAULT_CASES),
        help=f"comma-separated, from {', '.join(generate.CASES)}",
    )
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="data and scratch")
    parser.add_argument("--keep", action="store_true", help="keep each run's archive and database")
    parser.add_argument(
        "--runs", default=",".join(RUNS), help="which of index,parse,e2e,all to run"
    )
    parser.add_argument(
        "--all-cores",
        choices=("processes", "threads"),
        default="processes",
        help="all cores as one single-threaded process per core over a part of the file each, "
        "or as one process with Polars' default thread pool",
    )
    parser.add_argument("--networks", type=int, default=50_000)
    parser.add_argument("--ip-indicators", type=int, default=1_000_000)
    parser.add_argument("--domain-indicators", type=int, default=1_000_000)
    parser.add_argument("--url-patterns", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true", help="cProfile the one-core run")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument(
        "--fresh", action="store_true", help="forget results of formats not run this time"
    )
    return parser.parse_args(argv)


def say(text: str = "") -> None:
    """Print progress at once (runs take minutes)."""
    print(text, flush=True)


def _load_previous(path: Path) -> dict[str, Any]:
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document


def _measure(
    case: generate.Case,
    data: generate.Generated,
    args: argparse.Namespace,
    dirs: tuple[Path, Path],
    wanted: set[str],
) -> dict[str, Any]:
    """Run the wanted measurements of one format; return them with what the file holds."""
    runs_dir, state_dir = dirs
    run: dict[str, Any] = {
        "parser": case.parser,
        "kind": case.kind,
        "events": data.events,
        "bytes": data.bytes,
        "planted": data.planted,
        "code": report.code_measured(REPO),
    }
    if "parse" in wanted:
        parse = runner.parse_only(case.name, data.path, case.parser, runs_dir)
        run["parse"] = parse
        say(f"  parse, one core: {parse['events'] / parse['seconds']:,.0f} events/s")
    common = {"keep": args.keep}
    if "e2e" in wanted:
        one = runner.run_pipeline(
            case.name, data.path, case.parser, runs_dir, state_dir,
            parts=1, threads=False, profile=args.profile, **common,
        )  # fmt: skip
        run["e2e"] = one
        say(
            f"  pipeline, one core: {one['events'] / one['seconds']:,.0f} events/s, "
            f"peak RSS {one['peak_rss_mb']:,.0f} MB, {one['archive_files']:,} archive files"
        )
        if args.profile:
            say(f"  profile: {runs_dir.parent / f'profile-{case.name}.txt'}")
    if "all" in wanted:
        threads = args.all_cores == "threads"
        parts = 1 if threads else len(os.sched_getaffinity(0))
        every = runner.run_pipeline(
            case.name, data.path, case.parser, runs_dir, state_dir,
            parts=parts, threads=threads, profile=False, **common,
        )  # fmt: skip
        run["all"] = every
        say(
            f"  pipeline, all cores ({parts} process(es), {every['threads']} thread(s) each): "
            f"{every['events'] / every['seconds']:,.0f} events/s"
        )
    return run


def _index_figures(
    stamp: dict[str, Any], runs_dir: Path, state_dir: Path, wanted: set[str]
) -> dict[str, tuple[float, str]]:
    index = {
        "state_federation_load_s": (stamp["timings"]["federation_load_s"], "s"),
        "state_indicators_sql_insert_s": (stamp["timings"]["indicators_sql_insert_s"], "s"),
    }
    if "index" in wanted:
        say("index: building from SQL as `bastion boundary ingest` does (Pipeline.open) …")
        sql = runner.index_from_sql(state_dir, runs_dir)
        say(
            f"index: {sql['networks']:,} networks, {sql['indicators']:,} indicators "
            f"in {sql['seconds']:.1f} s, RSS {sql['rss_after_mb']:,.0f} MB"
        )
        index |= {
            "pipeline_open_from_sql_s": (sql["seconds"], "s"),
            "pipeline_open_rss_mb": (sql["rss_after_mb"], "MB"),
        }
    return index


def _save(
    args: argparse.Namespace,
    runs: dict[str, dict[str, Any]],
    skipped: dict[str, str],
    index: dict[str, tuple[float, str]],
    stamp: dict[str, Any],
    config: state.StateConfig,
    previous: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """Write the results file: this run's formats over what an earlier run left; return all runs."""
    kept = {k: v for k, v in previous.get("runs", {}).items() if k in generate.CASES}
    merged = {k: v for k, v in kept.items() if k not in runs and k not in skipped} | runs
    setups = [r["e2e"]["setup"] for r in runs.values() if r.get("e2e")]
    if setups:
        index |= {
            "network_index_build_s": (setups[0]["network_index_s"], "s"),
            "match_index_build_s": (setups[0]["match_index_s"], "s"),
            "indexes_rss_mb": (
                setups[0]["rss_after_indexes_mb"] - setups[0]["rss_before_indexes_mb"],
                "MB",
            ),
        }
    # Figures this run did not measure (say, --runs e2e) stay as the last run measured them.
    earlier = previous.get("results", [])
    index = {r["metric"]: (r["value"], r["unit"]) for r in earlier if r["case"] == "index"} | index
    extra = {
        "config": {
            **asdict(config),
            "events_per_format": {k: v["events"] for k, v in sorted(merged.items())},
            "all_cores": args.all_cores,
        },
        "state": {
            k: stamp[k]
            for k in ("organisations", "networks", "indicators_distinct", "indicators_by_type")
        },
        "skipped": skipped,
        "code": report.code_measured(REPO),
    }
    report.write_results(args.results, merged, index, extra)
    return merged


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit code."""
    args = _arguments(argv)
    wanted = [n.strip() for n in args.formats.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in generate.CASES]
    if unknown:
        say(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(generate.CASES)}")
        return 2
    runs_wanted = {r.strip() for r in args.runs.split(",") if r.strip()}
    workdir = args.workdir.resolve()
    events_dir, runs_dir, state_dir = workdir / "events", workdir / "runs", workdir / "state"
    config = state.StateConfig(
        args.networks, args.ip_indicators, args.domain_indicators, args.url_patterns
    )
    skipped = {
        n: f"parser {generate.CASES[n].parser!r} is not registered yet"
        for n in wanted
        if generate.CASES[n].parser not in PARSERS
    }
    for name, why in skipped.items():
        say(f"SKIPPED {name}: {why}")
    stamp = state.ensure_state(state_dir, config, log=say)
    index = _index_figures(stamp, runs_dir, state_dir, runs_wanted)
    demo = state.demo_orgs(config)
    world: World | None = None
    runs: dict[str, dict[str, Any]] = {}
    previous = {} if args.fresh else _load_previous(args.results)
    for case in (generate.CASES[n] for n in wanted if n not in skipped):
        data = generate.cached(case, events_dir, args.events)
        if data is None:
            if world is None:  # members' addresses for the traffic: the whole federation
                world = World([*demo, *state.federation(config)[1]])
            say(f"{case.name}: generating {args.events:,} events …")
            data = generate.generate(case, events_dir, args.events, demo, world)
        say(
            f"{case.name}: {data.events:,} events, {data.bytes / 1e6:,.0f} MB, "
            f"{data.planted} planted ({data.path})"
        )
        try:
            runs[case.name] = _measure(case, data, args, (runs_dir, state_dir), runs_wanted)
        except runner.WorkerFailed as exc:
            skipped[case.name] = str(exc)
            say(f"FAILED {case.name}: {exc}")
        # Written after every format: a long run cut short keeps what it measured.
        _save(args, runs, skipped, index, stamp, config, previous)
    merged = _save(args, runs, skipped, index, stamp, config, previous)
    report.print_tables(merged, say)
    say(f"\nresults: {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
