"""One measured run in its own process: ``python -m bench._boundary.worker SPEC.json``.

The parent sets the thread limits in the environment (they must be in place before
Polars starts its pool); the worker pins itself to its CPUs first thing, builds the
indexes (timed apart), runs the pipeline or the parser alone over its input, and
writes what it measured as JSON next to the spec.

Peak memory is the kernel's high-water mark of this process's own address space
(``VmHWM``): ``ru_maxrss`` would not do, since Linux carries the parent's resident
size at fork over into the child's figure.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def _status_mb(field: str) -> float:
    with Path("/proc/self/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _parse_only(spec: dict[str, Any]) -> dict[str, Any]:
    from bastion.boundary.lines import split_lines
    from bastion.boundary.parsers import ParseContext, get_parser
    from bastion.boundary.sources import open_source, read_chunks

    path = Path(spec["input"])
    parser = get_parser(spec["parser"])
    ctx = ParseContext(source=str(path), default_year=2025)
    events = rejects = size = 0
    started = time.perf_counter()
    with open_source(path) as stream:
        for chunk in read_chunks(stream):
            parsed = parser.read(split_lines(chunk.data, chunk.offset), ctx)
            events += parsed.events.height
            rejects += parsed.rejects.height
            size += len(chunk.data)
    return {
        "seconds": time.perf_counter() - started,
        "events": events,
        "rejects": rejects,
        "bytes": size,
    }


def _pipeline(spec: dict[str, Any]) -> tuple[Any, dict[str, float]]:
    import polars as pl

    from bastion.boundary.attribute import NetworkIndex
    from bastion.boundary.pipeline import Pipeline
    from bastion.intel import MatchIndex
    from bastion.orgs import all_networks
    from bastion.store import Store

    setup: dict[str, float] = {"rss_before_indexes_mb": _status_mb("VmRSS")}
    store = Store.from_url(spec["db_url"])
    started = time.perf_counter()
    with store.session() as session:
        networks = NetworkIndex.build(all_networks(session))
    setup["network_index_s"] = time.perf_counter() - started
    started = time.perf_counter()
    index = MatchIndex.from_frame(pl.read_parquet(spec["indicators"]))
    setup["match_index_s"] = time.perf_counter() - started
    setup["rss_after_indexes_mb"] = _status_mb("VmRSS")
    setup["networks"] = len(networks)
    setup["indicators"] = len(index)
    # Everything else as `bastion boundary ingest` has it by default (segment size included).
    pipe = Pipeline(
        store,
        archive_root=Path(spec["archive"]),
        deadletter_root=Path(spec["deadletter"]),
        networks=networks,
        index=index,
    )
    setup["segment_bytes"] = getattr(pipe, "segment_bytes", 0)
    return pipe, setup


def _wait_for_go(spec: dict[str, Any]) -> None:
    """Tell the parent the indexes are built, then wait until every part may start."""
    if not spec.get("barrier"):
        return
    barrier = Path(spec["barrier"])
    Path(f"{barrier}.ready-{spec.get('part', 0)}").touch()
    while not barrier.exists():
        time.sleep(0.005)


def _end_to_end(spec: dict[str, Any]) -> dict[str, Any]:
    from bench._boundary import stages

    installed = stages.install()
    pipe, setup = _pipeline(spec)
    _wait_for_go(spec)
    began_at = time.time()
    started = time.perf_counter()
    cpu_started = time.process_time()
    stats = pipe.ingest_file(Path(spec["input"]), spec["parser"])
    compaction = None
    # `bastion boundary ingest` compacts the archive when it is done: so does the benchmark
    # (for a file split between processes, the parent compacts once all parts are in).
    if spec.get("compact", True) and hasattr(pipe, "compact"):
        compacted = time.perf_counter()
        compaction = vars(pipe.compact())
        stages.SECONDS["compact"] += time.perf_counter() - compacted
    wall = time.perf_counter() - started
    return {
        "seconds": wall,
        # The process's own CPU time: on a machine others share, what one core really did.
        "cpu_seconds": time.process_time() - cpu_started,
        "began_at": began_at,
        "finished_at": time.time(),
        "status": stats.status,
        "events": stats.events,
        "rejects": stats.rejects,
        "bytes": stats.bytes,
        "batches": stats.batches,
        "matches": stats.matches,
        "unattributed_matches": stats.unattributed_matches,
        "alerts_created": stats.alerts_created,
        "alerts_extended": stats.alerts_extended,
        "reject_reasons": dict(sorted(stats.reject_reasons.items(), key=lambda kv: -kv[1])[:5]),
        "setup": setup,
        "stages": stages.breakdown(wall),
        "stage_details": stages.details(),
        "stages_timed": installed,
        "compaction": compaction,
        "can_compact": hasattr(pipe, "compact"),
    }


def _index_from_sql(spec: dict[str, Any]) -> dict[str, Any]:
    import bastion.models  # noqa: F401  (registers every table)
    from bastion.boundary.pipeline import Pipeline
    from bastion.core.settings import Settings
    from bastion.store import Store

    baseline = _status_mb("VmRSS")
    started = time.perf_counter()
    pipe = Pipeline.open(
        Store.from_url(spec["db_url"]),
        Settings(data_dir=Path(spec["data_dir"]), database_url=spec["db_url"]),
    )
    return {
        "seconds": time.perf_counter() - started,
        "networks": len(pipe.networks),
        "indicators": len(pipe.index),
        "rss_before_mb": baseline,
        "rss_after_mb": _status_mb("VmRSS"),
    }


def _compact_only(spec: dict[str, Any]) -> dict[str, Any]:
    """Compact an archive the parts of a split file were ingested into, as ingest does at its end."""
    from bastion.boundary.checkpoints import batch_done
    from bastion.boundary.compaction import compact
    from bastion.store import Store

    store = Store.from_url(spec["db_url"])
    started = time.perf_counter()
    with store.session() as session:
        stats = compact(Path(spec["archive"]), committed=lambda batch: batch_done(session, batch))
    return {"seconds": time.perf_counter() - started, "compaction": vars(stats)}


MODES = {
    "parse": _parse_only,
    "e2e": _end_to_end,
    "compact": _compact_only,
    "index-sql": _index_from_sql,
}


def main(spec_path: str) -> None:
    """Run the measurement the spec describes and write its result beside it."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    if spec.get("cpus"):
        os.sched_setaffinity(0, set(spec["cpus"]))
    profile_path = spec.get("profile")
    if profile_path:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(MODES[spec["mode"]], spec)
        profiler.dump_stats(profile_path)
    else:
        result = MODES[spec["mode"]](spec)
    import polars as pl

    result["peak_rss_mb"] = _status_mb("VmHWM")
    result["threads"] = pl.thread_pool_size()
    result["cpus"] = sorted(os.sched_getaffinity(0))
    Path(spec["result"]).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
