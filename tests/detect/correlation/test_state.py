"""State survives a restart: save/load in SQL gives the same firings as no restart."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from bastion.detect.correlation import CorrelationEngine, load, save
from bastion.store import Store

RULES = """
title: Three failures
id: 7d3f1c52-0b5e-4c1c-8f0e-1a2b3c4d5e6f
correlation:
    type: event_count
    rules: [failed]
    group-by: [host]
    timespan: 10m
    condition:
        gte: 3
---
title: Recon in order
id: 2f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c
correlation:
    type: temporal_ordered
    rules: [recon_a, recon_b]
    group-by: [host]
    timespan: 5m
---
title: Many users
id: 9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d
correlation:
    type: value_count
    rules: [failed]
    group-by: [host]
    timespan: 10m
    condition:
        field: user
        gte: 2
"""


def batches(streams):
    a = {"host": "pc-1", "user": "ann"}
    b = {"host": "pc-1", "user": "bob"}
    c = {"host": "pc-2", "user": "cat"}
    return [
        [(0, "failed", a), (1, "recon_a", c), (2, "failed", a)],
        [(3, "failed", b), (4, "recon_b", c), (5, "failed", c)],
        [(6, "failed", c), (7, "failed", c), (30, "failed", a), (31, "failed", b)],
    ]


def run_without_restart(streams) -> list[pl.DataFrame]:
    return streams.run(CorrelationEngine.from_yaml(RULES), *batches(streams))


def run_with_restarts(streams, store: Store) -> list[pl.DataFrame]:
    out = []
    for batch in batches(streams):
        engine = CorrelationEngine.from_yaml(RULES)  # a new process each time
        with store.session() as session:
            load(engine, session, partition="worker-1")
        out.append(engine.process(*streams.batch(batch)))
        with store.session() as session:
            save(engine, session, partition="worker-1")
    return out


def test_restart_between_every_batch_gives_the_same_firings(streams, store: Store) -> None:
    expected = run_without_restart(streams)
    got = run_with_restarts(streams, store)
    assert [f.height for f in expected] == [0, 3, 2]
    for want, have in zip(expected, got, strict=True):
        assert_frame_equal(have, want)


def test_without_load_the_split_window_is_lost(streams, store: Store) -> None:
    first, second = batches(streams)[:2]
    engine = CorrelationEngine.from_yaml(RULES)
    engine.process(*streams.batch(first))
    fresh = CorrelationEngine.from_yaml(RULES)
    assert fresh.process(*streams.batch(second)).is_empty()


def test_load_restores_counters_and_windows(streams, store: Store) -> None:
    engine = CorrelationEngine.from_yaml(RULES)
    streams.run(engine, *batches(streams)[:2])
    with store.session() as session:
        stored = save(engine, session, partition="p")
    assert stored == engine.last_stats.state_rows > 0
    again = CorrelationEngine.from_yaml(RULES)
    with store.session() as session:
        report = load(again, session, partition="p")
    assert report.rows == stored
    assert (again.watermark, again.next_seq, again.batches) == (
        engine.watermark,
        engine.next_seq,
        engine.batches,
    )
    for key, frame in engine.held().items():
        assert_frame_equal(again.state(key), frame)


def test_partitions_are_apart_and_unsaved_ones_load_nothing(streams, store: Store) -> None:
    engine = CorrelationEngine.from_yaml(RULES)
    streams.run(engine, batches(streams)[0])
    with store.session() as session:
        save(engine, session, partition="a")
    other = CorrelationEngine.from_yaml(RULES)
    with store.session() as session:
        report = load(other, session, partition="b")
    assert report.restored == ()
    assert other.held() == {}


def test_a_changed_rule_starts_with_an_empty_window(streams, store: Store) -> None:
    engine = CorrelationEngine.from_yaml(RULES)
    streams.run(engine, batches(streams)[0])
    with store.session() as session:
        save(engine, session)
    changed = CorrelationEngine.from_yaml(RULES.replace("gte: 3", "gte: 4"))
    with store.session() as session:
        report = load(changed, session)
    assert "7d3f1c52-0b5e-4c1c-8f0e-1a2b3c4d5e6f" in report.discarded
    assert changed.state("7d3f1c52-0b5e-4c1c-8f0e-1a2b3c4d5e6f").is_empty()
    assert not changed.state("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d").is_empty()
