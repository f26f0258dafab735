"""temporal and temporal_ordered: every rule within the timespan, in any order or in order."""

from __future__ import annotations

import pytest

from bastion.detect.correlation import CorrelationRuleError

HOST = {"host": "pc-1", "user": "ann"}
RULES = ["recon_a", "recon_b", "recon_c"]


def temporal(streams, kind="temporal", **options):
    return streams.engine(
        streams.rule(kind, RULES, timespan="5m", group_by=["host", "user"], **options)
    )


def test_temporal_fires_when_all_rules_appear_in_any_order(streams) -> None:
    stream = [
        (0, "recon_c", HOST),
        (1, "recon_a", HOST),
        (1, "recon_a", HOST),
        (2, "recon_b", HOST),
    ]
    (firings,) = streams.run(temporal(streams), stream)
    assert streams.fired_at(firings) == [2]
    assert firings["correlation.value"][0] == 3
    # evidence: the latest observation of each rule
    names = sorted(e["rule.name"] for e in firings["correlation.evidence"][0])
    assert names == RULES


def test_temporal_one_rule_missing_does_not_fire(streams) -> None:
    stream = [(0, "recon_a", HOST), (1, "recon_b", HOST), (2, "recon_a", HOST)]
    (firings,) = streams.run(temporal(streams), stream)
    assert firings.is_empty()


def test_temporal_outside_the_timespan_does_not_fire(streams) -> None:
    stream = [(0, "recon_a", HOST), (3, "recon_b", HOST), (5.5, "recon_c", HOST)]
    (firings,) = streams.run(temporal(streams), stream)
    assert firings.is_empty()


def test_temporal_needs_the_same_group(streams) -> None:
    other = {"host": "pc-1", "user": "bob"}
    stream = [(0, "recon_a", HOST), (1, "recon_b", other), (2, "recon_c", HOST)]
    (firings,) = streams.run(temporal(streams), stream)
    assert firings.is_empty()


def test_temporal_with_a_condition_needs_only_that_many_rules(streams) -> None:
    engine = temporal(streams, condition={"gte": 2})
    (firings,) = streams.run(engine, [(0, "recon_a", HOST), (1, "recon_c", HOST)])
    assert streams.fired_at(firings) == [1]


def test_temporal_split_over_batches(streams) -> None:
    first, second = streams.run(
        temporal(streams), [(0, "recon_b", HOST), (1, "recon_c", HOST)], [(4, "recon_a", HOST)]
    )
    assert first.is_empty()
    assert streams.fired_at(second) == [4]


def test_ordered_fires_when_the_rules_appear_in_order(streams) -> None:
    stream = [(0, "recon_a", HOST), (1, "recon_b", HOST), (2, "recon_c", HOST)]
    (firings,) = streams.run(temporal(streams, "temporal_ordered"), stream)
    assert streams.fired_at(firings) == [2]
    assert firings["correlation.first"][0] == streams.at(0)
    assert firings["correlation.type"][0] == "temporal_ordered"


def test_ordered_wrong_order_does_not_fire(streams) -> None:
    stream = [(0, "recon_b", HOST), (1, "recon_a", HOST), (2, "recon_c", HOST)]
    (firings,) = streams.run(temporal(streams, "temporal_ordered"), stream)
    assert firings.is_empty()


def test_ordered_picks_the_latest_start_that_fits(streams) -> None:
    # a at 0 is too early for c at 6, but the a at 2 starts an in-order chain in time.
    stream = [
        (0, "recon_a", HOST),
        (2, "recon_a", HOST),
        (3, "recon_b", HOST),
        (6, "recon_c", HOST),
    ]
    (firings,) = streams.run(temporal(streams, "temporal_ordered"), stream)
    assert streams.fired_at(firings) == [6]
    assert firings["correlation.first"][0] == streams.at(2)


def test_ordered_chain_longer_than_the_timespan_does_not_fire(streams) -> None:
    stream = [(0, "recon_a", HOST), (3, "recon_b", HOST), (6, "recon_c", HOST)]
    (firings,) = streams.run(temporal(streams, "temporal_ordered"), stream)
    assert firings.is_empty()


def test_ordered_across_three_batches(streams) -> None:
    a, b, c = streams.run(
        temporal(streams, "temporal_ordered"),
        [(0, "recon_a", HOST)],
        [(1, "recon_b", HOST)],
        [(2, "recon_c", HOST)],
    )
    assert a.is_empty()
    assert b.is_empty()
    assert streams.fired_at(c) == [2]


def test_ordered_rejects_a_condition_that_can_never_hold(streams) -> None:
    with pytest.raises(CorrelationRuleError, match="can never fire"):
        temporal(streams, "temporal_ordered", condition={"gt": 3})
