"""The benchmark's Bastion data directory: SQLite with the federation and the indicators.

Built once and reused while its configuration is unchanged: the demo federation
plus synthetic members up to the wanted number of networks (loaded through the
orgs context), and the synthetic indicators bulk-inserted into the indicator table
(and kept as Parquet, which the measured workers compile with ``MatchIndex.from_frame``).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import insert

import bastion.models  # noqa: F401  (registers every table)
from bastion.audit import Actor
from bastion.core.timeutil import utcnow
from bastion.demo import generate_federation, load_federation
from bastion.intel.models import IndicatorRow
from bastion.orgs import Organisation
from bastion.store import Store, upgrade
from bench._boundary import synthetic

DB_NAME = "bastion.db"
INDICATORS_NAME = "indicators.parquet"
STAMP_NAME = "state.json"
# The demo federation cannot be generated much above 2,000 organisations (its trust
# address pool runs out), so the rest of the networks come from synthetic members.
MAX_DEMO_SIZE = 2_000
INSERT_BATCH = 50_000


@dataclass(frozen=True)
class StateConfig:
    """What the state holds; a different config means a rebuild."""

    networks: int
    ip_indicators: int
    domain_indicators: int
    url_patterns: int
    seed: int = 7


def demo_size(config: StateConfig) -> int:
    """Return how many demo organisations to generate (each has about two networks)."""
    return max(20, min(MAX_DEMO_SIZE, config.networks * 10 // 21))


def demo_orgs(config: StateConfig) -> list[Organisation]:
    """Return the demo part of the federation (the one the demo traffic is made for)."""
    return generate_federation(seed=config.seed, size=demo_size(config))


def federation(config: StateConfig) -> tuple[list[Organisation], list[Organisation]]:
    """Return (demo organisations, synthetic members) holding ``config.networks`` networks."""
    demo = demo_orgs(config)
    missing = config.networks - sum(len(o.networks) for o in demo)
    return demo, synthetic.member_networks(max(missing, 0), config.seed)


def db_url(directory: Path) -> str:
    """Return the SQLAlchemy URL of the state's database."""
    return f"sqlite:///{directory / DB_NAME}"


def load_stamp(directory: Path) -> dict[str, Any] | None:
    """Return what the last complete build recorded, or None."""
    try:
        stamp: dict[str, Any] = json.loads((directory / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp


def _insert_indicators(store: Store, frame: pl.DataFrame) -> None:
    now = utcnow()
    table = IndicatorRow.__table__
    for start in range(0, frame.height, INSERT_BATCH):
        rows = frame.slice(start, INSERT_BATCH).with_columns(
            tags=pl.lit([], dtype=pl.List(pl.String))
        )
        with store.session() as session:
            session.execute(
                insert(table),
                [{**r, "created_at": now, "updated_at": now} for r in rows.iter_rows(named=True)],
            )


def ensure_state(directory: Path, config: StateConfig, *, log: Any = print) -> dict[str, Any]:
    """Build the state under ``directory`` unless a build of the same config is there."""
    stamp = load_stamp(directory)
    if stamp is not None and stamp.get("config") == asdict(config):
        log(f"state: reusing {directory} (built {stamp['built']})")
        return stamp
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    demo, extra = federation(config)
    store = Store.from_url(db_url(directory))
    upgrade(store.engine)
    with store.session() as session:
        load_federation(session, [*demo, *extra], actor=Actor.cli("bench"))
    timings["federation_load_s"] = time.perf_counter() - started
    log(
        f"state: {len(demo) + len(extra):,} organisations, "
        f"{sum(len(o.networks) for o in [*demo, *extra]):,} networks "
        f"in {timings['federation_load_s']:.1f} s"
    )
    started = time.perf_counter()
    frame = synthetic.indicators(
        config.ip_indicators, config.domain_indicators, config.url_patterns, config.seed
    )
    frame.write_parquet(directory / INDICATORS_NAME)
    timings["indicators_generate_s"] = time.perf_counter() - started
    started = time.perf_counter()
    _insert_indicators(store, frame)
    timings["indicators_sql_insert_s"] = time.perf_counter() - started
    store.dispose()
    counts = dict(frame.group_by("type").len().sort("type").iter_rows())
    log(
        f"state: {frame.height:,} indicator listings ({frame['value'].n_unique():,} distinct) "
        f"inserted in {timings['indicators_sql_insert_s']:.1f} s"
    )
    stamp = {
        "config": asdict(config),
        "built": utcnow().isoformat(timespec="seconds"),
        "organisations": len(demo) + len(extra),
        "demo_organisations": len(demo),
        "networks": sum(len(o.networks) for o in [*demo, *extra]),
        "indicator_listings": frame.height,
        "indicators_distinct": frame["value"].n_unique(),
        "indicators_by_type": counts,
        "timings": timings,
    }
    (directory / STAMP_NAME).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    return stamp
