"""Threat-intelligence benchmark: compile the match index, update it live, retro-hunt the archive.

Run as ``python -m bench.intel``; prints its figures and writes ``bench/results/intel.json``.

- ``compile``: 1M IP/CIDR + 1M domain + 100k URL indicators into a ``MatchIndex``
  (target under 20 s and 2 GB), in a fresh process so its peak RSS is its own; then
  the match rate of event batches against that index.
- ``incremental``: 10,000 changed indicators stored in SQLite and brought live in
  the big index with ``refresh_index`` (query + delta compile; target under 5 s).
- ``retrohunt``: 1,000 new indicators stored in SQLite, then ``boundary.retrohunt`` over a
  compacted archive of ``--events`` events (default 100M, over 30 days and 500
  organisations, one file per organisation per day), alerts and sightings included,
  in a fresh process (target 100M events under 60 s and 2 GB). The archive is written
  straight as Parquet (``bench/_intel/archive.py``) and kept under ``--archive-cache``.
  ``--cold`` (root) empties the page cache first, so the hunt reads the archive from
  disk; each result says which.

Only the cases asked for (``--cases``) are run; their rows replace theirs in the results
file, the other cases' rows are kept.

Figures are taken on a 2-core machine that other engineers' work may share; the README
says how each recorded run was.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from bastion.audit import Actor
from bench._boundary.report import code_measured, entry, machine
from bench._intel.archive import Shape, build, hunted_indicators

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "intel.json"
NOW = datetime.now(UTC).replace(microsecond=0)
NOTE = "a 2-core machine that other engineers' work may share: the README says how each run was"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ipv4(keys: np.ndarray) -> pl.Series:
    k = keys.astype(np.uint64)
    octets = [
        pl.Series(((k >> np.uint64(s)) & np.uint64(255)).astype(np.int64)) for s in (24, 16, 8, 0)
    ]
    return pl.select(v=pl.concat_str([o.cast(pl.String) for o in octets], separator="."))["v"]


def indicator_listings(ips: int, domains: int, urls: int, seed: int = 7) -> pl.DataFrame:
    """Generate canonical indicator listings (INDICATOR_SCHEMA) of the sizes asked."""
    rng = np.random.default_rng(seed)
    cidrs = ips // 5
    hosts = ips - cidrs
    host_keys = rng.integers(0x0B000000, 0xDF000000, hosts, dtype=np.uint64)
    prefix = rng.integers(16, 29, cidrs)
    net_keys = rng.integers(0x0B000000, 0xDF000000, cidrs, dtype=np.uint64)
    net_keys &= ~((np.uint64(1) << (32 - prefix).astype(np.uint64)) - np.uint64(1))
    host_values = _ipv4(host_keys)
    net_values = pl.select(
        v=pl.concat_str([_ipv4(net_keys), pl.lit("/"), pl.Series(prefix).cast(pl.String)])
    )["v"]
    n = pl.int_range(domains, eager=True)
    domain_values = pl.select(
        v=pl.concat_str(
            [
                pl.lit("d"),
                n.cast(pl.String),
                pl.lit(".bad"),
                (n % 997).cast(pl.String),
                pl.lit(".example"),
            ]
        )
    )["v"]
    u = pl.int_range(urls, eager=True)
    url_values = pl.select(
        v=pl.concat_str(
            [
                pl.lit("http://u"),
                (u % 5000).cast(pl.String),
                pl.lit(".host.example/p/"),
                u.cast(pl.String),
            ]
        )
    )["v"]
    parts = [
        ("ipv4", host_values.unique()),
        ("cidr", net_values.unique()),
        ("domain", domain_values),
        ("url", url_values),
    ]
    frames = [
        pl.DataFrame({"type": kind, "value": values}).with_columns(
            source=pl.lit("bench"),
            severity=pl.lit("high"),
            confidence=pl.lit(80, pl.Int32),
            action=pl.lit("block"),
            threat=pl.lit("generated"),
        )
        for kind, values in parts
    ]
    return pl.concat(frames)


def events_frame(count: int, seed: int, start: datetime, days: int) -> pl.DataFrame:
    """Generate ``count`` boundary events spread over ``days`` days before ``start``."""
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, days * 86400, count)
    dest = rng.integers(0x0B000000, 0xDF000000, count, dtype=np.uint64)
    src = rng.integers(0x0A000000, 0x0A0FFFFF, count, dtype=np.uint64)
    site = rng.integers(0, 200_000, count)
    org = rng.integers(0, 300, count)
    return pl.select(
        **{
            "@timestamp": (pl.lit(start) - pl.duration(seconds=pl.Series(seconds))).cast(
                pl.Datetime("us", "UTC")
            ),
            "event.dataset": pl.lit("panos.traffic"),
            "event.type": pl.lit("allowed"),
            "source.ip": _ipv4(src),
            "destination.ip": _ipv4(dest),
            "destination.port": pl.lit(443, pl.Int32),
            "url.domain": pl.concat_str(
                [pl.lit("site"), pl.Series(site).cast(pl.String), pl.lit(".example")]
            ),
            "organization.id": pl.concat_str([pl.lit("R"), pl.Series(org).cast(pl.String)]),
            "host.ip": _ipv4(src),
        }
    )


def _compile_case(ips: int, domains: int, urls: int, queue: Any) -> None:
    from bastion.intel import MatchIndex

    listings = indicator_listings(ips, domains, urls)
    before = _peak_rss_mb()
    started = time.perf_counter()
    index = MatchIndex.from_frame(listings)
    seconds = time.perf_counter() - started
    batch = events_frame(100_000, 3, NOW, 1)
    # Plant 1% hits so the match figure includes the work a hit costs.
    listed = listings.filter(pl.col("type") == "ipv4")["value"]
    planted = min(batch.height // 100, len(listed))
    batch = batch.with_columns(
        batch["destination.ip"].scatter(list(range(planted)), listed.head(planted))
    )
    index.match(batch)  # warm
    match_started = time.perf_counter()
    rounds = 3
    for _ in range(rounds):
        hits = index.match(batch)
    match_seconds = (time.perf_counter() - match_started) / rounds
    queue.put(
        {
            "listings": listings.height,
            "entries": len(index),
            "seconds": seconds,
            "peak_rss_mb": _peak_rss_mb(),
            "rss_before_compile_mb": before,
            "match_events": batch.height,
            "match_hits": hits.height,
            "match_seconds": match_seconds,
        }
    )


def _in_fresh_process(
    name: str, target: Callable[..., None], args: tuple[Any, ...], timeout: float
) -> dict[str, Any]:
    """Run a case in a spawned process (its CPU time and peak RSS its own); return its figures.

    ``target`` is called with ``args`` and a queue, on which it puts its figures.
    """
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    try:
        result: dict[str, Any] = queue.get(timeout=timeout)
    finally:
        process.join(60)
    if process.exitcode not in (0, None):
        msg = f"{name} case failed (exit {process.exitcode})"
        raise RuntimeError(msg)
    return result


def run_compile(ips: int, domains: int, urls: int) -> dict[str, Any]:
    """Compile the index in a fresh process; return its figures."""
    return _in_fresh_process("compile", _compile_case, (ips, domains, urls), timeout=1800)


def run_incremental(
    ips: int, domains: int, urls: int, changes: int, workdir: Path
) -> dict[str, Any]:
    """Store ``changes`` indicators in SQLite and bring them live in a big index."""
    from bastion import intel
    from bastion.store import Store, upgrade

    base = intel.MatchIndex.from_frame(indicator_listings(ips, domains, urls))
    store = Store.from_url(f"sqlite:///{workdir / 'intel.db'}")
    upgrade(store.engine)
    fresh = indicator_listings(changes // 2, changes // 2, 0, seed=99)
    listings = [
        intel.Indicator(
            type=intel.IndicatorType(t),
            value=v,
            source="feed",
            confidence=90,
            action=intel.Action.BLOCK,
        )
        for t, v in fresh.select("type", "value").iter_rows()
    ]
    mark = NOW
    started = time.perf_counter()
    with store.session() as session:
        intel.store_listings(
            session,
            listings,
            reason="bench",
            now=NOW + timedelta(seconds=1),
            actor=Actor.cli("bench"),
        )
    stored = time.perf_counter() - started
    started = time.perf_counter()
    with store.session() as session:
        live, _ = intel.refresh_index(session, base, mark, now=NOW + timedelta(seconds=2))
    refreshed = time.perf_counter() - started
    probe = pl.DataFrame(
        {"destination.ip": fresh.filter(pl.col("type") == "ipv4")["value"].head(1000)}
    )
    visible = live.match(probe)["_row"].n_unique()
    store.dispose()
    return {
        "changes": len(listings),
        "store_seconds": stored,
        "refresh_seconds": refreshed,
        "base_entries": len(base),
        "live_entries": len(live),
        "probe_hits": visible,
        "probe": probe.height,
    }


def _retrohunt_case(root: Path, end: datetime, hunted: list[tuple[str, str]], queue: Any) -> None:
    """Store the new indicators, then retro-hunt them over the archive (in a fresh process)."""
    from bastion import intel
    from bastion.boundary.retrohunt import retrohunt
    from bastion.store import Store, upgrade

    store = Store.from_url(f"sqlite:///{root.parent / f'{root.name}-intel.db'}")
    upgrade(store.engine)
    listings = [
        intel.Indicator(type=intel.IndicatorType(t), value=v, source="new-feed", confidence=90)
        for t, v in hunted
    ]
    with store.session() as session:
        intel.store_listings(
            session,
            listings,
            reason="bench",
            now=end - timedelta(minutes=1),
            actor=Actor.cli("bench"),
        )
    rss_before = _peak_rss_mb()
    cpu, wall = time.process_time(), time.perf_counter()
    with store.session() as session:
        report = retrohunt(session, root, days=30, now=end, everything=True)
    queue.put(
        {
            "seconds": time.perf_counter() - wall,
            "cpu_seconds": time.process_time() - cpu,
            "peak_rss_mb": _peak_rss_mb(),
            "rss_before_hunt_mb": rss_before,
            "indicators": report.indicators,
            "values_hit": report.values_hit,
            "matched_events": report.events,
            "alerts": report.alerts,
        }
    )
    store.dispose()


DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def _drop_page_cache() -> None:
    """Empty the kernel's page cache (root only), so the hunt reads the archive from disk."""
    os.sync()
    try:
        DROP_CACHES.write_text("3\n")
    except OSError as exc:
        msg = f"--cold needs root to write {DROP_CACHES}: {exc}"
        raise SystemExit(msg) from exc


def run_retrohunt(shape: Shape, indicators: int, cache: Path, *, cold: bool) -> dict[str, Any]:
    """Write (or reuse) a compacted archive of ``shape``, then retro-hunt ``indicators`` over it.

    The hunt runs in a fresh process, so its CPU time and peak RSS are its own. ``cold``:
    the page cache is emptied first, so the archive is read from disk, as a hunt over
    a national month (far larger than memory) would; otherwise it is read as found
    (just written, or cached by the last run: the warm case).
    """
    root = cache / f"archive-{shape.events}-{shape.days}d-{shape.orgs}orgs"
    built = build(root, shape)
    (root.parent / f"{root.name}-intel.db").unlink(missing_ok=True)
    end = datetime.fromisoformat(str(built["end"])) + timedelta(seconds=1)
    hunted = hunted_indicators(shape.seed, indicators).rows()
    if cold:
        _drop_page_cache()
    result = _in_fresh_process("retrohunt", _retrohunt_case, (root, end, hunted), timeout=3600)
    return {
        **result,
        "page_cache": "dropped before the hunt" if cold else "as found",
        "events": shape.events,
        "days": shape.days,
        "organisations": shape.orgs,
        "events_per_s": shape.events / result["seconds"],
        "archive_files": built["files"],
        "archive_mb": int(built["bytes"]) / 1e6,  # type: ignore[call-overload]
        "generate_seconds": built["generate_seconds"],
    }


# The result rows each case writes (compile also measures matching).
CASE_ROWS = {
    "compile": {"compile", "match"},
    "incremental": {"incremental"},
    "retrohunt": {"retrohunt"},
}


def _merged(path: Path, rows: list[dict[str, Any]], runs: dict[str, Any]) -> dict[str, Any]:
    """Return the results document with these cases' rows and runs replacing theirs, others kept."""
    try:
        earlier: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        earlier = {}
    replaced = {case for name in runs for case in CASE_ROWS[name]}
    kept = [r for r in earlier.get("results", []) if r.get("case") not in replaced]
    earlier_runs = {k: v for k, v in earlier.get("runs", {}).items() if k not in runs}
    return {**earlier, "results": kept + rows, "runs": {**earlier_runs, **runs}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ips", type=int, default=1_000_000)
    parser.add_argument("--domains", type=int, default=1_000_000)
    parser.add_argument("--urls", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000_000, help="archived events to hunt")
    parser.add_argument("--days", type=int, default=30, help="days the archive spans")
    parser.add_argument("--orgs", type=int, default=500, help="organisations in the archive")
    parser.add_argument("--hunt-indicators", type=int, default=1000)
    parser.add_argument(
        "--archive-cache", type=Path, default=Path("/tmp/retro"), help="where archives are kept"
    )
    parser.add_argument(
        "--cold", action="store_true", help="empty the page cache before the retro-hunt (root)"
    )
    parser.add_argument("--cases", default="compile,incremental,retrohunt")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    cases = set(args.cases.split(","))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-intel-"))
    workdir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    runs: dict[str, Any] = {}
    if "compile" in cases:
        c = runs["compile"] = run_compile(args.ips, args.domains, args.urls)
        print(f"compile: {c['listings']:,} listings -> {c['entries']:,} entries in {c['seconds']:.2f} s, "
              f"peak RSS {c['peak_rss_mb']:.0f} MB; match {c['match_events'] / c['match_seconds']:,.0f} events/s")  # fmt: skip
        rows += [
            entry("compile", "seconds", c["seconds"], "s", indicators=c["listings"], target=20, meets_target=c["seconds"] < 20),
            entry("compile", "peak_rss_mb", c["peak_rss_mb"], "MB", indicators=c["listings"], target=2048, meets_target=c["peak_rss_mb"] < 2048),
            entry("match", "events_per_s", c["match_events"] / c["match_seconds"], "events/s", index_entries=c["entries"], hits=c["match_hits"]),
        ]  # fmt: skip
    if "incremental" in cases:
        i = runs["incremental"] = run_incremental(
            args.ips, args.domains, args.urls, args.changes, workdir
        )
        print(f"incremental: {i['changes']:,} indicators stored in {i['store_seconds']:.2f} s, live in "
              f"{i['refresh_seconds']:.2f} s ({i['probe_hits']}/{i['probe']} probes hit)")  # fmt: skip
        rows += [
            entry("incremental", "refresh_seconds", i["refresh_seconds"], "s", changes=i["changes"], target=5, meets_target=i["refresh_seconds"] < 5),
            entry("incremental", "store_seconds", i["store_seconds"], "s", changes=i["changes"]),
            entry("incremental", "store_and_refresh_seconds", i["store_seconds"] + i["refresh_seconds"], "s", changes=i["changes"]),
        ]  # fmt: skip
    if "retrohunt" in cases:
        shape = Shape(args.events, args.days, args.orgs)
        r = runs["retrohunt"] = run_retrohunt(
            shape, args.hunt_indicators, args.archive_cache, cold=args.cold
        )
        print(f"retrohunt: {r['indicators']} indicators over {r['events']:,} events ({r['archive_files']:,} files) "
              f"in {r['seconds']:.2f} s ({r['cpu_seconds']:.1f} CPU s, {r['events_per_s']:,.0f} events/s), "
              f"peak RSS {r['peak_rss_mb']:.0f} MB; {r['matched_events']:,} events matched, {r['alerts']} alerts")  # fmt: skip
        common = {"events": r["events"], "indicators": r["indicators"], "files": r["archive_files"],
                  "page_cache": r["page_cache"]}  # fmt: skip
        rows += [
            entry("retrohunt", "seconds", r["seconds"], "s", **common, target=60 if r["events"] >= 100_000_000 else None, meets_target=r["seconds"] < 60 if r["events"] >= 100_000_000 else None),
            entry("retrohunt", "cpu_seconds", r["cpu_seconds"], "s", **common),
            entry("retrohunt", "events_per_s", r["events_per_s"], "events/s", **common),
            entry("retrohunt", "peak_rss_mb", r["peak_rss_mb"], "MB", **common, target=2048, meets_target=r["peak_rss_mb"] < 2048),
        ]  # fmt: skip
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for run in runs.values():
        # Cases kept from an earlier run may come from another machine: each says its own.
        run["date"], run["code"], run["machine"] = now, code_measured(REPO), machine()
    document = _merged(args.results, rows, runs)
    document.pop("code", None)  # each run names the code it measured
    document.update(machine={**machine(), "note": NOTE}, date=now)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
