"""event_count: exactly when it fires over sliding windows, across batches and restarts."""

from __future__ import annotations

import json

import polars as pl

from bastion.detect.correlation import FIRING_SCHEMA, CorrelationEngine, CorrelationState

A = {"host": "pc-1"}
B = {"host": "pc-2"}


def three_in_ten(streams):
    return streams.engine(streams.rule("event_count", ["failed"], condition={"gte": 3}))


def test_fires_on_the_third_event_within_the_timespan(streams) -> None:
    engine = three_in_ten(streams)
    (firings,) = streams.run(engine, [(0, "failed", A), (4, "failed", A), (9, "failed", A)])
    assert streams.fired_at(firings) == [9]
    row = firings.row(0, named=True)
    assert firings.schema == pl.Schema(FIRING_SCHEMA)
    assert row["correlation.type"] == "event_count"
    assert row["correlation.value"] == 3
    assert row["correlation.events"] == 3
    assert json.loads(row["correlation.group"]) == {"host": "pc-1"}
    assert row["correlation.first"] == streams.at(0)
    assert row["correlation.last"] == streams.at(9)
    assert row["rule.level"] == "high"
    assert [e["row"] for e in row["correlation.evidence"]] == [0, 1, 2]


def test_one_event_short_does_not_fire(streams) -> None:
    (firings,) = streams.run(three_in_ten(streams), [(0, "failed", A), (9, "failed", A)])
    assert firings.is_empty()


def test_events_spread_wider_than_the_timespan_do_not_fire(streams) -> None:
    # 0, 6, 12: every 10-minute window holds only two of them.
    (firings,) = streams.run(
        three_in_ten(streams), [(0, "failed", A), (6, "failed", A), (12, "failed", A)]
    )
    assert firings.is_empty()


def test_window_edges_are_inclusive(streams) -> None:
    (firings,) = streams.run(
        three_in_ten(streams), [(0, "failed", A), (5, "failed", A), (10, "failed", A)]
    )
    assert streams.fired_at(firings) == [10]


def test_window_slides_rather_than_using_fixed_buckets(streams) -> None:
    # 8, 12, 14 straddle the 10-minute bucket boundary: a fixed bucket would miss them.
    (firings,) = streams.run(
        three_in_ten(streams), [(8, "failed", A), (12, "failed", A), (14, "failed", A)]
    )
    assert streams.fired_at(firings) == [14]


def test_groups_are_counted_apart(streams) -> None:
    (firings,) = streams.run(
        three_in_ten(streams),
        [(0, "failed", A), (1, "failed", B), (2, "failed", A), (3, "failed", B), (4, "failed", B)],
    )
    assert streams.fired_at(firings) == [4]
    assert json.loads(firings["correlation.group"][0]) == {"host": "pc-2"}


def test_other_rules_hits_do_not_count(streams) -> None:
    (firings,) = streams.run(
        three_in_ten(streams), [(0, "failed", A), (1, "success", A), (2, "failed", A)]
    )
    assert firings.is_empty()


def test_hits_match_by_rule_id_too(streams) -> None:
    engine = streams.engine(streams.rule("event_count", ["id-failed"], condition={"gte": 2}))
    (firings,) = streams.run(engine, [(0, "failed", A), (1, "failed", A)])
    assert streams.fired_at(firings) == [1]


def test_one_firing_per_episode_and_again_after_a_quiet_timespan(streams) -> None:
    burst = [(m, "failed", A) for m in (0, 1, 2, 3, 4, 5)]  # holds from minute 2 on
    later = [(m, "failed", A) for m in (30, 31, 32)]  # 25 minutes without it holding
    (firings,) = streams.run(three_in_ten(streams), burst + later)
    assert streams.fired_at(firings) == [2, 32]


def test_split_over_two_batches_fires_in_the_second(streams) -> None:
    engine = three_in_ten(streams)
    first, second = streams.run(
        engine, [(0, "failed", A), (4, "failed", A)], [(9, "failed", A), (30, "failed", B)]
    )
    assert first.is_empty()
    assert streams.fired_at(second) == [9]
    evidence = second["correlation.evidence"][0]
    assert [(e["batch"], e["row"]) for e in evidence] == [(0, 0), (0, 1), (1, 0)]


def test_state_is_bounded_by_the_timespan(streams) -> None:
    engine = three_in_ten(streams)
    _, state = streams.feed(engine, [(0, "failed", A), (1, "failed", B)], [(30, "failed", B)])
    held = engine.window(state, engine.specs[0].key)
    # minute 0 and 1 fell out of every window once the stream reached minute 30
    assert held["@timestamp"].to_list() == [streams.at(30)]
    assert state.last.state_rows == state.rows == 1


def test_null_group_values_and_times_are_counted_not_fired(streams) -> None:
    engine = three_in_ten(streams)
    events, hits = streams.batch([(0, "failed", {"host": None}), (1, "failed", A)])
    events = events.with_columns(
        pl.when(pl.int_range(pl.len()) == 1)
        .then(None)
        .otherwise(pl.col("@timestamp"))
        .alias("@timestamp")
    )
    firings, state = engine.process(events, hits, CorrelationState())
    assert firings.is_empty()
    assert state.last.ungrouped == 1
    assert state.last.untimed == 1


def test_without_group_by_everything_is_one_group(streams) -> None:
    engine: CorrelationEngine = streams.engine(
        streams.rule("event_count", ["failed"], group_by=[], condition={"gte": 2})
    )
    (firings,) = streams.run(engine, [(0, "failed", A), (1, "failed", B)])
    assert streams.fired_at(firings) == [1]
    assert firings["correlation.group"][0] == "{}"


def test_a_late_event_still_counts_in_its_window(streams) -> None:
    engine = three_in_ten(streams)
    first, second = streams.run(
        engine, [(0, "failed", A), (8, "failed", A)], [(9, "failed", B), (5, "failed", A)]
    )
    assert first.is_empty()
    # 5 arrives after 8 was evaluated: it completes the window [-2, 8] of 0, 5, 8,
    # which fires in this batch at its own time, 8.
    assert streams.fired_at(second) == [8]
    assert second["correlation.events"][0] == 3
    assert [e["batch"] for e in second["correlation.evidence"][0]] == [0, 1, 0]


def test_a_late_event_outside_every_window_does_not_fire(streams) -> None:
    engine = three_in_ten(streams)
    first, second = streams.run(
        engine, [(0, "failed", A), (20, "failed", A)], [(21, "failed", B), (7, "failed", A)]
    )
    assert first.is_empty()
    assert second.is_empty()


def test_a_late_event_does_not_fire_a_window_that_already_fired(streams) -> None:
    engine = three_in_ten(streams)
    first, second = streams.run(
        engine, [(0, "failed", A), (1, "failed", A), (2, "failed", A)], [(1.5, "failed", A)]
    )
    assert streams.fired_at(first) == [2]
    assert second.is_empty()


def test_grouping_by_organisation_puts_it_on_the_firing(streams) -> None:
    engine = streams.engine(
        streams.rule("event_count", ["failed"], group_by=["organization.id"], condition={"gte": 2})
    )
    stream = [
        (0, "failed", {"organization.id": "R1A"}),
        (1, "failed", {"organization.id": "R2B"}),
        (2, "failed", {"organization.id": "R1A"}),
    ]
    (firings,) = streams.run(engine, stream)
    assert firings["organization.id"].to_list() == ["R1A"]


def test_events_of_several_organisations_leave_the_organisation_open(streams) -> None:
    engine = three_in_ten(streams)
    stream = [
        (0, "failed", {**A, "organization.id": "R1A"}),
        (1, "failed", {**A, "organization.id": "R2B"}),
        (2, "failed", {**A, "organization.id": "R1A"}),
    ]
    (firings,) = streams.run(engine, stream)
    assert firings["organization.id"].to_list() == [None]
