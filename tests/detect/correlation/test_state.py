"""State is a value: it survives a restart in SQL, and a state left behind stays as it was."""

from __future__ import annotations

import polars as pl
import pytest
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
            state, _ = load(engine, session, partition="worker-1")
        firings, state = engine.process(*streams.batch(batch), state)
        out.append(firings)
        with store.session() as session:
            save(engine, state, session, partition="worker-1")
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
    _, state = streams.feed(engine, first)
    assert state.rows > 0
    (firings,), _ = streams.feed(engine, second)  # from the empty state, not from `state`
    assert firings.is_empty()


def test_process_leaves_the_state_it_was_given_as_it_was(streams) -> None:
    first, second, third = batches(streams)
    engine = CorrelationEngine.from_yaml(RULES)
    _, before = streams.feed(engine, first)
    copies = {key: frame.clone() for key, frame in before.windows.items()}
    counters = (before.watermark, before.next_seq, before.batches)
    (fired,), after = streams.feed(engine, second, state=before)
    assert fired.height == 3
    assert after is not before
    # the new state was dropped (its batch was committed already): the old one is intact …
    assert (before.watermark, before.next_seq, before.batches) == counters
    assert before.windows.keys() == copies.keys()
    for key, frame in copies.items():
        assert_frame_equal(before.windows[key], frame)
    # … so running the batch again from it fires the same, once
    (again,), redone = streams.feed(engine, second, state=before)
    assert_frame_equal(again, fired)
    assert redone.rows == after.rows
    assert [f.height for f in streams.feed(engine, third, state=redone)[0]] == [2]
    with pytest.raises(TypeError):
        before.windows["x"] = pl.DataFrame()  # type: ignore[index]


def test_load_restores_counters_and_windows(streams, store: Store) -> None:
    engine = CorrelationEngine.from_yaml(RULES)
    _, state = streams.feed(engine, *batches(streams)[:2])
    with store.session() as session:
        stored = save(engine, state, session, partition="p")
    assert stored == state.last.state_rows > 0
    again = CorrelationEngine.from_yaml(RULES)
    with store.session() as session:
        loaded, report = load(again, session, partition="p")
    assert report.rows == stored
    assert (loaded.watermark, loaded.next_seq, loaded.batches) == (
        state.watermark,
        state.next_seq,
        state.batches,
    )
    for key, frame in state.held().items():
        assert_frame_equal(again.window(loaded, key), frame)


def test_partitions_are_apart_and_unsaved_ones_load_nothing(streams, store: Store) -> None:
    engine = CorrelationEngine.from_yaml(RULES)
    _, state = streams.feed(engine, batches(streams)[0])
    with store.session() as session:
        save(engine, state, session, partition="a")
    other = CorrelationEngine.from_yaml(RULES)
    with store.session() as session:
        loaded, report = load(other, session, partition="b")
    assert report.restored == ()
    assert loaded.held() == {}
    assert (loaded.watermark, loaded.batches) == (None, 0)


def test_a_changed_rule_starts_with_an_empty_window(streams, store: Store) -> None:
    engine = CorrelationEngine.from_yaml(RULES)
    _, state = streams.feed(engine, batches(streams)[0])
    with store.session() as session:
        save(engine, state, session)
    changed = CorrelationEngine.from_yaml(RULES.replace("gte: 3", "gte: 4"))
    with store.session() as session:
        loaded, report = load(changed, session)
    assert "7d3f1c52-0b5e-4c1c-8f0e-1a2b3c4d5e6f" in report.discarded
    assert changed.window(loaded, "7d3f1c52-0b5e-4c1c-8f0e-1a2b3c4d5e6f").is_empty()
    assert not changed.window(loaded, "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d").is_empty()
