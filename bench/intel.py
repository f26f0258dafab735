"""Threat-intelligence benchmark: compile the match index, update it live, retro-hunt the archive.

Run as ``python -m bench.intel``; prints its figures and writes ``bench/results/intel.json``.

- ``compile``: 1M IP/CIDR + 1M domain + 100k URL indicators into a ``MatchIndex``
  (target under 20 s and 2 GB), in a fresh process so its peak RSS is its own; then
  the match rate of event batches against that index.
- ``incremental``: 10,000 changed indicators stored in SQLite and brought live in
  the big index with ``refresh_index`` (query + delta compile; target under 5 s).
- ``retrohunt``: 1,000 new indicators hunted over a generated archive of
  ``--events`` events through ``archive.hunt`` (target 100M events under 60 s).

Figures are taken on a machine shared with other engineers' work (2 cores).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from bench._boundary.report import code_measured, entry, machine

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "intel.json"
NOW = datetime.now(UTC).replace(microsecond=0)
SHARED = "figures taken on a 2-core machine shared with other engineers' builds and tests"


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


def run_compile(ips: int, domains: int, urls: int) -> dict[str, Any]:
    """Compile the index in a fresh process; return its figures."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_compile_case, args=(ips, domains, urls, queue))
    process.start()
    try:
        result: dict[str, Any] = queue.get(timeout=1800)
    finally:
        process.join(60)
    if process.exitcode not in (0, None):
        msg = f"compile case failed (exit {process.exitcode})"
        raise RuntimeError(msg)
    return result


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
        intel.store_listings(session, listings, reason="bench", now=NOW + timedelta(seconds=1))
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


def run_retrohunt(events: int, indicators: int, workdir: Path) -> dict[str, Any]:
    """Write an archive of ``events`` events, then hunt ``indicators`` new indicators over it."""
    from bastion.boundary.archive import write_batch
    from bastion.intel import hunt_matches

    root = workdir / "archive"
    shutil.rmtree(root, ignore_errors=True)
    batch = 2_000_000
    started = time.perf_counter()
    sample: list[pl.DataFrame] = []
    for number, first in enumerate(range(0, events, batch)):
        frame = events_frame(min(batch, events - first), 1000 + number, NOW, 30)
        write_batch(frame, root, f"bench-{number:05d}")
        sample.append(frame.select("destination.ip", "url.domain").head(2000))
    generated = time.perf_counter() - started
    seen = pl.concat(sample)
    # Half the new indicators were seen in the archive, half never.
    half = indicators // 2
    listings = pl.concat(
        [
            pl.DataFrame({"type": "ipv4", "value": seen["destination.ip"].unique().head(half // 2)}),
            pl.DataFrame({"type": "domain", "value": seen["url.domain"].unique().head(half - half // 2)}),
            indicator_listings(indicators - half, 0, 0, seed=5).select("type", "value").head(indicators - half),
        ]
    ).with_columns(
        source=pl.lit("new"), severity=pl.lit("high"), confidence=pl.lit(90, pl.Int32),
        action=pl.lit("alert"), threat=pl.lit(""),
    )  # fmt: skip
    started = time.perf_counter()
    found, matches, values_hit = hunt_matches(
        root, listings, days=30, now=NOW + timedelta(seconds=1)
    )
    seconds = time.perf_counter() - started
    size = sum(f.stat().st_size for f in root.rglob("*.parquet"))
    return {
        "events": events,
        "indicators": listings.height,
        "seconds": seconds,
        "events_per_s": events / seconds,
        "matched_events": found.height,
        "matches": matches.height,
        "values_hit": values_hit,
        "generate_seconds": generated,
        "archive_mb": size / 1e6,
        "peak_rss_mb": _peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ips", type=int, default=1_000_000)
    parser.add_argument("--domains", type=int, default=1_000_000)
    parser.add_argument("--urls", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=20_000_000, help="archived events to hunt")
    parser.add_argument("--hunt-indicators", type=int, default=1000)
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
        r = runs["retrohunt"] = run_retrohunt(args.events, args.hunt_indicators, workdir)
        projected = 100_000_000 / r["events_per_s"]
        print(f"retrohunt: {r['indicators']} indicators over {r['events']:,} events in {r['seconds']:.2f} s "
              f"({r['events_per_s']:,.0f} events/s; 100M would take ~{projected:.0f} s); "
              f"{r['matched_events']:,} events matched")  # fmt: skip
        rows += [
            entry("retrohunt", "seconds", r["seconds"], "s", events=r["events"], indicators=r["indicators"]),
            entry("retrohunt", "events_per_s", r["events_per_s"], "events/s", events=r["events"]),
            entry("retrohunt", "projected_seconds_100m", projected, "s", target=60, meets_target=projected < 60, note="linear projection from the measured rate"),
        ]  # fmt: skip
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    document = {
        "machine": {**machine(), "shared": True, "note": SHARED},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": code_measured(REPO),
        "results": rows,
        "runs": runs,
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
