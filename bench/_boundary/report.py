"""The benchmark's outputs: the machine it ran on, the results file, and the printed tables."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

# Events per second per core, end to end, that each kind of format must reach.
TARGETS = {"csv-like": 300_000, "key=value": 150_000, "json": 150_000}
CSV_LIKE = "csv-like"


def _reference_work(n: int) -> int:
    """A fixed piece of plain CPython work: integer arithmetic, a dict, strings."""
    seen: dict[str, int] = {}
    total = 0
    for i in range(n):
        total += i * i % 7
        seen[str(i % 997)] = total
    return total + len(seen)


def python_speed(n: int = 200_000, repeats: int = 5) -> float:
    """Return the milliseconds this host takes for ``_reference_work(n)``, best of ``repeats``.

    Hosts of one machine kind differ, by up to three times in what a request costs.
    This figure, kept in every results file's machine, says how fast the host ran
    plain Python, so results taken on two hosts can be told apart.
    """
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        _reference_work(n)
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 2)


def machine() -> dict[str, Any]:
    """Describe the machine and the library versions the numbers depend on."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in ("polars", "pyarrow", "duckdb", "sqlalchemy", "numpy", "pyahocorasick"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu_model": model or platform.processor(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "python_reference_ms": python_speed(),
        "python_reference": "best of 5 runs of a fixed plain-Python loop (200,000 steps of "
        "arithmetic, str() and a dict): lower is a faster host",
        **versions,
    }


class Load:
    """The machine's one-minute load average over a benchmark's run, measured, never assumed.

    Sampled when made, whenever ``sample`` is called, and when the results are written.
    """

    def __init__(self) -> None:
        self.samples = [os.getloadavg()[0]]

    def sample(self) -> float:
        """Take and return one more sample."""
        self.samples.append(os.getloadavg()[0])
        return self.samples[-1]

    def conditions(self) -> dict[str, Any]:
        """Describe the load over the run, as a range and a sentence."""
        self.sample()
        low, high, cores = min(self.samples), max(self.samples), len(os.sched_getaffinity(0))
        busy = (
            "at times more runnable work than cores, so wall-clock rates may be lower bounds"
            if high > cores
            else "never more runnable work than cores"
        )
        return {
            "load_average_1m": {"min": round(low, 1), "max": round(high, 1)},
            "conditions": f"one-minute load average {low:.1f} to {high:.1f} on {cores} usable "
            f"cores during the run: {busy}",
        }


def write_document(
    path: Path, results: list[dict[str, Any]], load: Load, note: str = "", **extra: Any
) -> dict[str, Any]:
    """Write a benchmark's results file: the machine and its load, the date, the results.

    ``note`` says what the machine figures alone cannot (what ran where, what was not
    timed); ``extra`` holds anything more the benchmark keeps beside its results.
    """
    document = {
        "machine": {**machine(), **load.conditions(), **({"note": note} if note else {})},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "results": results,
        **extra,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return document


def code_measured(repo: Path) -> dict[str, Any]:
    """Identify the code measured: the commit, how many files differ from it, a hash of the hot path.

    Others edit the pipeline while benchmarks run, so a result says which code it timed.
    """

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    digest = hashlib.sha256()
    for folder in ("src/bastion/boundary", "src/bastion/intel"):
        for path in sorted((repo / folder).rglob("*.py")):
            digest.update(path.relative_to(repo).as_posix().encode() + path.read_bytes())
    return {
        "git_head": git("rev-parse", "--short", "HEAD"),
        "files_changed_since_head": len(git("status", "--porcelain").splitlines()),
        "boundary_and_intel_sha256": digest.hexdigest()[:16],
    }


def entry(
    case: str, metric: str, value: float | None, unit: str | None, **extra: Any
) -> dict[str, Any]:
    """Return one result row (numbers rounded to what the measurement supports)."""
    if isinstance(value, float):
        value = round(value, 3 if abs(value) < 100 else 0)
    return {"case": case, "metric": metric, "value": value, "unit": unit, **extra}


def case_results(name: str, run: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the result rows of one benchmarked format."""
    rows: list[dict[str, Any]] = []
    common = {"events": run["events"], "parser": run["parser"], "kind": run["kind"]}
    one, parse, every = run.get("e2e"), run.get("parse"), run.get("all")
    if one:
        target = TARGETS.get(run["kind"])
        eps = one["events"] / one["seconds"]
        rows.append(
            entry(
                name,
                "events_per_s_per_core",
                eps,
                "events/s",
                **common,
                target=target,
                meets_target=None if target is None else eps >= target,
            )
        )
        rows.append(
            entry(name, "mb_per_s_per_core", one["bytes"] / 1e6 / one["seconds"], "MB/s", **common)
        )
        if one.get("cpu_seconds"):
            rows.append(
                entry(
                    name,
                    "events_per_cpu_s",
                    one["events"] / one["cpu_seconds"],
                    "events/s",
                    **common,
                    note="events over the one-core process's CPU seconds (equals the wall-clock "
                    "figure on an otherwise idle machine)",
                )
            )
        rows += _compaction_rows(name, one, common)
    if every:
        rows.append(
            entry(
                name,
                "events_per_s_all_cores",
                every["events"] / every["seconds"],
                "events/s",
                **common,
                processes=every["processes"],
                threads_per_process=every["threads"],
            )
        )
        rows.append(
            entry(
                name,
                "mb_per_s_all_cores",
                every["bytes"] / 1e6 / every["seconds"],
                "MB/s",
                **common,
            )
        )
    if parse:
        rows.append(
            entry(
                name,
                "parse_events_per_s_per_core",
                parse["events"] / parse["seconds"],
                "events/s",
                **common,
            )
        )
    peaks = [r["peak_rss_mb"] for r in (one, parse) if r] + (
        every["peak_rss_mb_each"] if every else []
    )
    if one and one.get("peak_rss_mb_compaction"):
        peaks.append(one["peak_rss_mb_compaction"])
    if peaks:
        rows.append(entry(name, "peak_rss_mb", max(peaks), "MB", **common))
    return rows


# The reference operation's daily volume: what a day's compaction is spread over.
NATIONAL_EVENTS_PER_DAY = 3_000_000_000


def _compaction_rows(
    name: str, run: dict[str, Any], common: dict[str, Any]
) -> list[dict[str, Any]]:
    """Return the rows of the compaction that followed a one-core ingest.

    Compaction writes one file per organisation for the day, whatever the day's
    volume: its cost is per (day, organisation), not per event. The benchmark's
    few million events are a sliver of a national day, so its cost is shown
    both as measured here and spread over a national day's events.
    """
    seconds, stats = run.get("compaction_seconds"), run.get("compaction")
    if not seconds or not stats or not stats.get("files_written"):
        return []
    files = stats["files_written"]
    per_file_ms = 1e3 * seconds / files
    with_it = run["events"] / (run["seconds"] + seconds)
    national_us = 1e6 * seconds / NATIONAL_EVENTS_PER_DAY  # this day's files, over a national day
    return [
        entry(name, "compaction_seconds", seconds, "s", **common, files_written=files),
        entry(name, "compaction_ms_per_file", per_file_ms, "ms", **common),
        entry(
            name,
            "events_per_s_per_core_with_compaction",
            with_it,
            "events/s",
            **common,
            note="ingest then the compaction of its day, both on one core, over these events only",
        ),
        entry(
            name,
            "compaction_us_per_event_national_day",
            national_us,
            "µs/event",
            **common,
            note=f"the same organisations' files for a day of {NATIONAL_EVENTS_PER_DAY:,} events",
        ),
    ]


def _combined(runs: dict[str, dict[str, Any]], key: str, kinds: set[str] | None) -> float | None:
    chosen = [r[key] for r in runs.values() if r.get(key) and (kinds is None or r["kind"] in kinds)]
    if not chosen:
        return None
    return sum(r["events"] for r in chosen) / sum(r["seconds"] for r in chosen)


def summary_results(runs: dict[str, dict[str, Any]], index: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the rows over all formats: end to end, peak memory, index build."""
    rows = []
    csv_names = sorted(n for n, r in runs.items() if r["kind"] == CSV_LIKE)
    note = f"CSV-like formats ({', '.join(csv_names)}) together: their events over their seconds"
    for metric, key in (("events_per_s_per_core", "e2e"), ("events_per_s_all_cores", "all")):
        value = _combined(runs, key, {CSV_LIKE})
        if value is not None:
            rows.append(
                entry(
                    "end_to_end",
                    metric,
                    value,
                    "events/s",
                    note=note,
                    target=TARGETS[CSV_LIKE] if key == "e2e" else None,
                )
            )
        overall = _combined(runs, key, None)
        if overall is not None:
            rows.append(
                entry(
                    "end_to_end_all_formats",
                    metric,
                    overall,
                    "events/s",
                    note="every format run, together",
                )
            )
    peaks = [
        peak
        for r in runs.values()
        for peak in [r[k]["peak_rss_mb"] for k in ("e2e", "parse") if r.get(k)]
        + (r["all"]["peak_rss_mb_each"] if r.get("all") else [])
        + (
            [r["e2e"]["peak_rss_mb_compaction"]]
            if r.get("e2e", {}).get("peak_rss_mb_compaction")
            else []
        )
    ]
    if peaks:
        rows.append(
            entry(
                "all",
                "peak_rss_mb",
                max(peaks),
                "MB",
                note="largest single process over every run",
                target=1536,
            )
        )
    for metric, (value, unit) in index.items():
        rows.append(entry("index", metric, value, unit))
    return rows


def write_results(
    path: Path, runs: dict[str, dict[str, Any]], index: dict[str, Any], extra: dict[str, Any]
) -> dict[str, Any]:
    """Write the results file: machine, date, one row per (case, metric), and the raw runs."""
    results = [row for name in sorted(runs) for row in case_results(name, runs[name])]
    results += summary_results(runs, index)
    document = {
        "machine": machine(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "results": results,
        **extra,
        "runs": runs,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return document


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def print_tables(runs: dict[str, dict[str, Any]], say: Any = print) -> None:
    """Print one line per format, then where each format's one-core time went."""
    header = (
        "format",
        "events",
        "MB",
        "parse ev/s/core",
        "e2e ev/s/core",
        "target",
        "e2e ev/s all",
        "MB/s/core",
        "peak RSS MB",
        "archive files",
        "compaction s",
    )
    rows = []
    for name in sorted(runs):
        r = runs[name]
        one, parse, every = r.get("e2e"), r.get("parse"), r.get("all")
        eps = one["events"] / one["seconds"] if one else None
        target = TARGETS.get(r["kind"])
        verdict = (
            "-"
            if target is None or eps is None
            else f"{target:,} {'ok' if eps >= target else 'MISS'}"
        )
        peaks = [x["peak_rss_mb"] for x in (one, parse) if x] + (
            every["peak_rss_mb_each"] if every else []
        )
        if one and one.get("peak_rss_mb_compaction"):
            peaks.append(one["peak_rss_mb_compaction"])
        rows.append(
            (
                name,
                f"{r['events']:,}",
                f"{r['bytes'] / 1e6:,.0f}",
                _rate(parse["events"] / parse["seconds"] if parse else None),
                _rate(eps),
                verdict,
                _rate(every["events"] / every["seconds"] if every else None),
                "-" if not one else f"{one['bytes'] / 1e6 / one['seconds']:.1f}",
                "-" if not peaks else f"{max(peaks):,.0f}",
                "-" if not one else f"{one.get('archive_files', 0):,}",
                "-"
                if not one or not one.get("compaction_seconds")
                else f"{one['compaction_seconds']:.1f}",
            )
        )
    _table(header, rows, say)
    for name in sorted(runs):
        one = runs[name].get("e2e")
        if not one:
            continue
        say(f"\n{name}: where one core's {one['seconds']:.1f} s went ({one['events']:,} events)")
        stage_rows = [
            (
                stage,
                f"{seconds:.2f}",
                f"{100 * seconds / one['seconds']:.1f}%",
                f"{1e6 * seconds / max(one['events'], 1):.2f}",
            )
            for stage, seconds in one["stages"].items()
        ]
        stage_rows += [
            (
                f"  ({stage})",
                f"{seconds:.2f}",
                f"{100 * seconds / one['seconds']:.1f}%",
                f"{1e6 * seconds / max(one['events'], 1):.2f}",
            )
            for stage, seconds in sorted(one["stage_details"].items(), key=lambda kv: -kv[1])
            if seconds >= 0.005 * one["seconds"]
        ]
        _table(("stage", "seconds", "share", "µs/event"), stage_rows, say)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], say: Any) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    say("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        say(
            "  ".join(
                str(c).rjust(w) if i else str(c).ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
