"""Start the measured worker processes and gather what they report.

Each measurement runs in a fresh process so its peak RSS is its own and its thread
limits (set in the environment before Polars starts) hold. A pipeline run gets a fresh
copy of the state's database, so checkpoints and alerts start empty every time.
"""

from __future__ import annotations

import json
import os
import pstats
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._boundary import state

REPO = Path(__file__).resolve().parents[2]
ONE_THREAD = dict.fromkeys(
    (
        "POLARS_MAX_THREADS",
        "RAYON_NUM_THREADS",
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
    ),
    "1",
)


class WorkerFailed(RuntimeError):
    """A measured worker process exited with an error (its traceback is on stderr)."""


def start_worker(
    spec: dict[str, Any], directory: Path, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    directory.mkdir(parents=True, exist_ok=True)
    spec_path = directory / f"spec-{spec['mode']}-{spec.get('part', 0)}.json"
    spec["result"] = str(spec_path.with_suffix(".result.json"))
    spec_path.write_text(json.dumps(spec, indent=2), encoding="utf-8")
    full_env = {
        **os.environ,
        **env,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    # The load before a run says whether something else shared the machine (others do).
    spec_path.with_suffix(".load.json").write_text(json.dumps(os.getloadavg()), encoding="utf-8")
    command = [sys.executable, "-m", "bench._boundary.worker", str(spec_path)]
    return subprocess.Popen(command, env=full_env, cwd=REPO)


def finish(
    process: subprocess.Popen[bytes], spec_dir: Path, mode: str, part: int = 0
) -> dict[str, Any]:
    if process.wait() != 0:
        raise WorkerFailed(f"benchmark worker {mode} failed (exit {process.returncode}); see above")
    spec_path = spec_dir / f"spec-{mode}-{part}.json"
    result: dict[str, Any] = json.loads(
        spec_path.with_suffix(".result.json").read_text(encoding="utf-8")
    )
    result["load_before"] = json.loads(spec_path.with_suffix(".load.json").read_text("utf-8"))
    result["load_after"] = list(os.getloadavg())
    return result


def fresh_db(state_dir: Path, run_dir: Path) -> str:
    """Copy the built state's database for one run: checkpoints and alerts start empty."""
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    shutil.copyfile(state_dir / state.DB_NAME, run_dir / state.DB_NAME)
    # A state built by older code lacks the tables added since: bring the copy up to date.
    from bastion.store import Store, upgrade

    store = Store.from_url(state.db_url(run_dir))
    upgrade(store.engine)
    store.dispose()
    return state.db_url(run_dir)


def archive_size(root: Path) -> tuple[int, int]:
    files = size = 0
    for directory, _, names in os.walk(root):
        for name in names:
            files += 1
            size += (Path(directory) / name).stat().st_size
    return files, size


def split_file(path: Path, parts: int, directory: Path) -> list[Path]:
    """Cut ``path`` at line starts into ``parts`` files of about equal size, each a source.

    Each part is ingested by the public ``ingest_file`` like any file, so a process per
    core runs exactly the code one core does. A part after the first gets the file's
    leading ``#`` header lines (Zeek's ``#fields``), which its lines need.
    """
    if parts == 1:
        return [path]
    size = path.stat().st_size
    with path.open("rb") as handle:
        header = b""
        for line in iter(handle.readline, b""):
            if not line.startswith(b"#"):
                break
            header += line
        points = [0]
        for part in range(1, parts):
            handle.seek(max(size * part // parts, points[-1]))
            handle.readline()
            points.append(handle.tell())
        points.append(size)
        files = []
        for part in range(parts):
            target = directory / f"part-{part}{path.suffix}"
            handle.seek(points[part])
            with target.open("wb") as out:
                if part:
                    out.write(header)
                left = points[part + 1] - points[part]
                while left > 0:
                    block = handle.read(min(left, 64 << 20))
                    out.write(block)
                    left -= len(block)
            files.append(target)
    return files


def run_pipeline(
    name: str,
    file: Path,
    parser: str,
    runs_dir: Path,
    state_dir: Path,
    *,
    parts: int,
    threads: bool,
    profile: bool,
    keep: bool,
) -> dict[str, Any]:
    """Run the whole pipeline over ``file`` in ``parts`` processes; return the merged measurements."""
    label = "e2e" if parts == 1 and not threads else "all"
    # One process on one core, one with Polars' own threads, or one process per core.
    run_dir = runs_dir / f"{name}-{label}"
    db_url = fresh_db(state_dir, run_dir)
    inputs = split_file(file, parts, run_dir)
    barrier = run_dir / "go"
    cpus = sorted(os.sched_getaffinity(0))
    processes = []
    for part in range(parts):
        spec: dict[str, Any] = {
            "mode": "e2e",
            "input": str(inputs[part]),
            "parser": parser,
            "db_url": db_url,
            "indicators": str(state_dir / state.INDICATORS_NAME),
            "archive": str(run_dir / "archive"),
            "deadletter": str(run_dir / "deadletter"),
            "part": part,
            # Compaction is a job of its own, once a day is over (see compaction.py):
            # it is measured after the ingest, not inside it.
            "compact": False,
        }
        if parts > 1:
            spec["barrier"] = str(barrier)
        if not threads:
            spec["cpus"] = [cpus[part % len(cpus)]]
        if profile:
            spec["profile"] = str(run_dir / "profile.pstats")
        processes.append(start_worker(spec, run_dir, {} if threads else ONE_THREAD))
    go_at = time.time()
    if parts > 1:
        # Every part builds its own indexes first; the clock starts when all are ready.
        while not all(Path(f"{barrier}.ready-{p}").exists() for p in range(parts)):
            if any(p.poll() not in (None, 0) for p in processes):
                break
            time.sleep(0.01)
        go_at = time.time()
        barrier.touch()
    results = [finish(p, run_dir, "e2e", part) for part, p in enumerate(processes)]
    compacts = results[0].get("can_compact", False)
    odd = [r["status"] for r in results if r["status"] != "ingested"]
    if odd:
        raise WorkerFailed(f"{name}: the pipeline did not ingest the file afresh ({odd[0]})")
    merged = dict(results[0])
    if compacts:
        # One compaction of the (closed) day once every part is in, as its own process,
        # on one core like the ingest it follows.
        spec = {"mode": "compact", "db_url": db_url, "archive": str(run_dir / "archive")}
        if not threads:
            spec["cpus"] = [cpus[0]]
        compacted = finish(
            start_worker(spec, run_dir, {} if threads else ONE_THREAD), run_dir, "compact"
        )
        merged["compaction"] = compacted["compaction"]
        merged["compaction_seconds"] = compacted["seconds"]
        merged["peak_rss_mb_compaction"] = compacted["peak_rss_mb"]
    if parts > 1:
        merged["seconds"] = max(r["finished_at"] for r in results) - go_at
        for key in (
            "events",
            "rejects",
            "bytes",
            "batches",
            "matches",
            "alerts_created",
            "alerts_extended",
        ):
            merged[key] = sum(r[key] for r in results)
    merged["processes"] = parts
    merged["peak_rss_mb_each"] = [r["peak_rss_mb"] for r in results]
    if "peak_rss_mb_compaction" in merged:
        merged["peak_rss_mb_each"].append(merged["peak_rss_mb_compaction"])
    merged["archive_files"], archive_bytes = archive_size(run_dir / "archive")
    merged["archive_mb"] = archive_bytes / 1e6
    if profile:
        profile_text(run_dir / "profile.pstats", runs_dir.parent / f"profile-{name}.txt")
    if not keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    return merged


def profile_text(stats_path: Path, out: Path) -> None:
    with out.open("w", encoding="utf-8") as handle:
        stats = pstats.Stats(str(stats_path), stream=handle)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)


def parse_only(name: str, file: Path, parser: str, runs_dir: Path) -> dict[str, Any]:
    run_dir = runs_dir / f"{name}-parse"
    spec = {
        "mode": "parse",
        "input": str(file),
        "parser": parser,
        "cpus": [sorted(os.sched_getaffinity(0))[0]],
    }
    result = finish(start_worker(spec, run_dir, ONE_THREAD), run_dir, "parse")
    shutil.rmtree(run_dir, ignore_errors=True)
    return result


def index_from_sql(state_dir: Path, runs_dir: Path) -> dict[str, Any]:
    run_dir = runs_dir / "index"
    spec = {
        "mode": "index-sql",
        "db_url": state.db_url(state_dir),
        "data_dir": str(run_dir),
        "cpus": [sorted(os.sched_getaffinity(0))[0]],
    }
    result = finish(start_worker(spec, run_dir, ONE_THREAD), run_dir, "index-sql")
    shutil.rmtree(run_dir, ignore_errors=True)
    return result
